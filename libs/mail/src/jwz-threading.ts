import { randomUUID } from 'node:crypto';
import { threadableSubject } from './subject-tag.js';

export interface ThreadableMessage {
  messageId: string | null;
  /** References in header order, In-Reply-To appended last when not already present. */
  references: readonly string[];
  subject: string;
  /** Arrival order; threads and siblings are ordered by it. */
  index: number;
}

export interface ThreadNode<M extends ThreadableMessage = ThreadableMessage> {
  /** null for a placeholder ("dummy") standing for a message we never saw. */
  message: M | null;
  children: ThreadNode<M>[];
}

interface Container<M> {
  message: M | null;
  parent: Container<M> | null;
  children: Container<M>[];
}

export type ThreadingAlgorithm = 'references' | 'subject';

/**
 * jwz threading (https://www.jwz.org/doc/threading.html, RFC 5256 REFERENCES), with the
 * choices MailKit makes where the description is open: duplicate or missing
 * Message-IDs get a fresh id, reference loops are refused at link time, placeholders
 * are only spliced into the root when they have a single child, and siblings are
 * ordered by arrival. Pure and total: any input yields a forest.
 */
export function buildThreads<M extends ThreadableMessage>(
  messages: readonly M[],
  algorithm: ThreadingAlgorithm = 'references',
): ThreadNode<M>[] {
  const root: Container<M> = { message: null, parent: null, children: [] };
  if (algorithm === 'subject') {
    for (const m of messages) root.children.push({ message: m, parent: null, children: [] });
  } else {
    for (const c of idTable(messages).values()) if (!c.parent) root.children.push(c);
    pruneEmpty(root);
  }
  groupBySubject(root);
  return toNodes(root);
}

function idTable<M extends ThreadableMessage>(messages: readonly M[]): Map<string, Container<M>> {
  const ids = new Map<string, Container<M>>();
  for (const message of messages) {
    let id = message.messageId || `<generated-${randomUUID()}>`;
    let node = ids.get(id);
    if (node && node.message) {
      id = `<duplicate-${randomUUID()}>`; // a second message with the same id stays separate
      node = undefined;
    }
    if (node) node.message = message;
    else {
      node = { message, parent: null, children: [] };
      ids.set(id, node);
    }

    let parent: Container<M> | null = null;
    for (const ref of message.references) {
      let referenced = ids.get(ref);
      if (!referenced) {
        referenced = { message: null, parent: null, children: [] };
        ids.set(ref, referenced);
      }
      if (
        parent &&
        !referenced.parent &&
        parent !== referenced &&
        !parent.children.includes(referenced)
      ) {
        parent.children.push(referenced);
        referenced.parent = parent;
      }
      parent = referenced;
    }
    if (parent && (parent === node || node.children.includes(parent))) parent = null;
    if (node.parent) {
      const siblings = node.parent.children;
      siblings.splice(siblings.indexOf(node), 1);
      node.parent = null;
    }
    if (parent) {
      parent.children.push(node);
      node.parent = parent;
    }
  }
  return ids;
}

function pruneEmpty<M>(container: Container<M>): void {
  for (let i = 0; i < container.children.length; i++) {
    const node = container.children[i];
    if (!node) continue;
    if (!node.message && node.children.length === 0) {
      container.children.splice(i--, 1);
    } else if (!node.message && (node.parent || node.children.length === 1)) {
      // Splice the placeholder's children up a level; at the root only a single child
      // may be promoted, or unrelated replies to one lost message would fall apart.
      container.children.splice(i--, 1);
      for (const child of node.children) {
        child.parent = node.parent;
        container.children.push(child);
      }
      node.children = [];
    } else if (node.children.length) {
      pruneEmpty(node);
    }
  }
}

function firstMessage<M extends ThreadableMessage>(c: Container<M>): M | null {
  return c.message ?? (c.children[0] ? firstMessage(c.children[0]) : null);
}

function subjectOf<M extends ThreadableMessage>(c: Container<M>): string {
  const m = firstMessage(c);
  return m ? threadableSubject(m.subject).subject.toLowerCase() : '';
}

const isReply = (m: ThreadableMessage): boolean => threadableSubject(m.subject).replyDepth > 0;

function groupBySubject<M extends ThreadableMessage>(root: Container<M>): void {
  const table = new Map<string, Container<M>>();
  for (const current of root.children) {
    const subject = subjectOf(current);
    if (!subject) continue;
    const match = table.get(subject);
    if (
      !match ||
      (!current.message && match.message) ||
      (match.message && isReply(match.message) && current.message && !isReply(current.message))
    ) {
      table.set(subject, current);
    }
  }
  for (let i = 0; i < root.children.length; i++) {
    const current = root.children[i];
    if (!current) continue;
    const subject = subjectOf(current);
    const match = subject ? table.get(subject) : undefined;
    if (!match || match === current) continue;
    root.children.splice(i--, 1);
    if (!match.message && !current.message) {
      match.children.push(...current.children);
    } else if (
      !match.message ||
      (current.message && isReply(current.message) && !isReply(match.message))
    ) {
      match.children.push(current);
    } else {
      // Neither is the obvious parent: turn the table entry into a placeholder holding both.
      const moved: Container<M> = {
        message: match.message,
        parent: match,
        children: match.children,
      };
      match.message = null;
      match.children = [moved, current];
    }
  }
}

function arrival<M extends ThreadableMessage>(c: Container<M>): number {
  return firstMessage(c)?.index ?? Number.MAX_SAFE_INTEGER;
}

function toNodes<M extends ThreadableMessage>(c: Container<M>): ThreadNode<M>[] {
  const sorted = [...c.children].sort((a, b) => arrival(a) - arrival(b));
  return sorted.map((child) => ({ message: child.message, children: toNodes(child) }));
}

/** Renders a forest the way the jwz/MailKit fixtures do (3 spaces per level, "dummy"). */
export function renderThreads(nodes: readonly ThreadNode[], depth = 0): string {
  return nodes
    .map(
      (n) =>
        `${' '.repeat(depth * 3)}${n.message ? n.message.subject : 'dummy'}\n${renderThreads(n.children, depth + 1)}`,
    )
    .join('');
}

import { replyAddress, signReplyToken } from './reply-token.js';
import { subjectTag } from './subject-tag.js';

// Outbound mail is built from structured values only: nodemailer writes and encodes
// every header, and whatever reaches a header from the outside (subject, names) has
// its line breaks flattened first, so no value can start a header of its own.

/** A template a team edits: `Subject:` line, then `--- text ---` and `--- html ---` parts. */
export interface MailTemplate {
  name: string;
  subject: string;
  text: string;
  html: string;
}

export type TemplateValues = Readonly<Record<string, string | number>>;

export class ComposeMailError extends Error {
  readonly retriable = false;
  constructor(
    readonly code: 'TEMPLATE_INVALID' | 'TEMPLATE_VALUE_MISSING' | 'MESSAGE_ID_INVALID',
    message: string,
  ) {
    super(message);
    this.name = 'ComposeMailError';
  }
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z][a-zA-Z0-9_]*)\s*\}\}/g;
const SECTION = /^---\s*(text|html)\s*---\s*$/gim;

/** Parses a template file; every part must be present so a typo fails at start, not at send. */
export function parseMailTemplate(name: string, source: string): MailTemplate {
  const text = source.replace(/\r\n/g, '\n');
  const subjectLine = /^subject:(.*)$/im.exec(text);
  const marks = [...text.matchAll(SECTION)];
  const part = (kind: 'text' | 'html'): string | undefined => {
    const i = marks.findIndex((m) => m[1]?.toLowerCase() === kind);
    const mark = marks[i];
    if (!mark || mark.index === undefined) return undefined;
    const end = marks[i + 1]?.index ?? text.length;
    return (
      text
        .slice(mark.index + mark[0].length, end)
        .replace(/^\n/, '')
        .trimEnd() + '\n'
    );
  };
  const subject = subjectLine?.[1]?.trim();
  const body = part('text');
  const html = part('html');
  const missing = [!subject && 'Subject: line', !body && '--- text ---', !html && '--- html ---']
    .filter(Boolean)
    .join(', ');
  if (!subject || !body || !html) {
    throw new ComposeMailError('TEMPLATE_INVALID', `template ${name}: missing ${missing}`);
  }
  return { name, subject, text: body, html };
}

/** The placeholder names a template uses, so a loader can check them against what it provides. */
export function templatePlaceholders(template: MailTemplate): string[] {
  const all = `${template.subject}\n${template.text}\n${template.html}`;
  return [...new Set([...all.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Replaces `{{name}}`; a missing value is an error, never an empty hole in a customer mail. */
export function renderTemplate(
  source: string,
  values: TemplateValues,
  escape: (s: string) => string = (s) => s,
): string {
  return source.replace(PLACEHOLDER, (_all, key: string) => {
    const v = values[key];
    if (v === undefined) {
      throw new ComposeMailError('TEMPLATE_VALUE_MISSING', `no value for {{${key}}}`);
    }
    return escape(String(v));
  });
}

/** Line breaks and other control characters out: a header value stays one line. */
export function singleLine(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}

/** `<seed@domain>`: derived from the outbox row, so a re-sent mail carries the same id. */
export function ourMessageId(seed: string, domain: string): string {
  if (!/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$/.test(seed) || !/^[A-Za-z0-9.-]+$/.test(domain)) {
    throw new ComposeMailError('MESSAGE_ID_INVALID', `bad Message-ID parts ${seed} @ ${domain}`);
  }
  return `<${seed}@${domain}>`;
}

export interface ComposeMailInput {
  template: MailTemplate;
  values: TemplateValues;
  ticketId: string;
  ticketNumber: number;
  to: { email: string; name?: string | undefined };
  support: { address: string; name?: string | undefined };
  replyTokenSecret: string;
  /** Full `<id@domain>`, see ourMessageId. */
  messageId: string;
  /** The requester's own message (when the ticket came by mail): threads in their client. */
  inReplyTo?: string | undefined;
  autoSubmitted?: 'auto-replied' | 'auto-generated';
}

/** Structurally a nodemailer SendMailOptions: pass it to `transporter.sendMail` as is. */
export interface ComposedMail {
  from: { name: string; address: string };
  to: { name: string; address: string };
  replyTo: string;
  subject: string;
  messageId: string;
  inReplyTo?: string;
  references?: string[];
  headers: Record<string, string>;
  text: string;
  html: string;
  /** SMTP envelope: bounces come back to the support mailbox, where they are detected. */
  envelope: { from: string; to: string };
}

export function composeMail(input: ComposeMailInput): ComposedMail {
  const values = Object.fromEntries(
    Object.entries(input.values).map(([k, v]) => [k, typeof v === 'string' ? v : String(v)]),
  );
  const subject = singleLine(
    `${subjectTag(input.ticketNumber)} ${renderTemplate(input.template.subject, values)}`,
  );
  const to = singleLine(input.to.email);
  const support = singleLine(input.support.address);
  const inReplyTo = input.inReplyTo ? singleLine(input.inReplyTo) : undefined;
  const token = signReplyToken(input.ticketId, input.replyTokenSecret);
  return {
    from: { name: singleLine(input.support.name ?? ''), address: support },
    to: { name: singleLine(input.to.name ?? ''), address: to },
    replyTo: replyAddress(support, token),
    subject,
    messageId: singleLine(input.messageId),
    ...(inReplyTo ? { inReplyTo, references: [inReplyTo] } : {}),
    headers: {
      'Auto-Submitted': input.autoSubmitted ?? 'auto-replied',
      'X-Auto-Response-Suppress': 'All',
    },
    text: renderTemplate(input.template.text, values),
    html: renderTemplate(input.template.html, values, escapeHtml),
    envelope: { from: support, to },
  };
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildThreads, renderThreads, type ThreadableMessage } from './jwz-threading.js';
import { threadableSubject } from './subject-tag.js';
import { DATA_DIR } from './test-support/fixtures.js';

interface Fixture {
  threadable_subject: [string, string, number][];
  cases: {
    name: string;
    algorithm: 'REFERENCES' | 'ORDEREDSUBJECT';
    expected_tree: string;
    messages: { index: number; subject: string; message_id: string | null; references: string[] }[];
  }[];
}

const fixture = JSON.parse(
  readFileSync(`${DATA_DIR}/threading/mailkit_jwz_threading_cases.json`, 'utf8'),
) as Fixture;

describe('jwz threading (MailKit cases)', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const messages: ThreadableMessage[] = c.messages.map((m) => ({
      messageId: m.message_id,
      references: m.references,
      subject: m.subject,
      index: m.index,
    }));
    const threads = buildThreads(messages, c.algorithm === 'REFERENCES' ? 'references' : 'subject');
    expect(renderThreads(threads)).toBe(c.expected_tree);
  });

  it.each(fixture.threadable_subject)('threadable subject of %j', (input, subject, depth) => {
    expect(threadableSubject(input)).toEqual({ subject, replyDepth: depth });
  });

  it('never loses a message, even with reference loops', () => {
    const messages: ThreadableMessage[] = [
      { messageId: '<a>', references: ['<b>'], subject: 'x', index: 0 },
      { messageId: '<b>', references: ['<a>'], subject: 'y', index: 1 },
      { messageId: '<a>', references: [], subject: 'dup', index: 2 },
      { messageId: null, references: ['<a>'], subject: 'z', index: 3 },
    ];
    const count = (nodes: ReturnType<typeof buildThreads>): number =>
      nodes.reduce((n, t) => n + (t.message ? 1 : 0) + count(t.children), 0);
    expect(count(buildThreads(messages))).toBe(4);
  });
});

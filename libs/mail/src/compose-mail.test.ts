import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import {
  ComposeMailError,
  composeMail,
  ourMessageId,
  parseMailTemplate,
  templatePlaceholders,
  type ComposeMailInput,
} from './compose-mail.js';
import { findReplyToken, verifyReplyToken } from './reply-token.js';
import { parseSubjectTag } from './subject-tag.js';

const TEMPLATE = parseMailTemplate(
  'acknowledgement',
  `Subject: We received your request: {{title}}
--- text ---
Hello {{name}},
ticket {{number}} is with {{department}}.
--- html ---
<p>Hello {{name}},</p><p>ticket {{number}} is with {{department}}.</p>
`,
);

const SECRET = 'test-secret-0123456789';

function input(overrides: Partial<ComposeMailInput> = {}): ComposeMailInput {
  return {
    template: TEMPLATE,
    values: { title: 'VPN down', name: 'Ada', number: 1042, department: 'IT Support' },
    ticketId: '8b0b0c1e-1f7e-4c55-9d6a-2f1f7c3b0a11',
    ticketNumber: 1042,
    to: { email: 'alice@example.test', name: 'Alice' },
    support: { address: 'support@example.test', name: 'Support' },
    replyTokenSecret: SECRET,
    messageId: ourMessageId('ack.abc', 'mailroom.example.test'),
    inReplyTo: '<orig-1@client.example>',
    ...overrides,
  };
}

async function raw(mail: ReturnType<typeof composeMail>): Promise<string> {
  const t = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const info = await t.sendMail(mail);
  return (info.message as Buffer).toString('utf8');
}

describe('composeMail', () => {
  it('builds a threaded, tagged, auto-submitted mail with a verifiable reply token', async () => {
    const mail = composeMail(input());
    const parsed = await simpleParser(await raw(mail));
    expect(parsed.subject).toBe('[#1042] We received your request: VPN down');
    expect(parseSubjectTag(parsed.subject ?? '')).toBe(1042);
    expect(parsed.messageId).toBe('<ack.abc@mailroom.example.test>');
    expect(parsed.inReplyTo).toBe('<orig-1@client.example>');
    expect(parsed.references).toBe('<orig-1@client.example>');
    expect(parsed.headers.get('auto-submitted')).toBe('auto-replied');
    expect(parsed.headers.get('x-auto-response-suppress')).toBe('All');
    const replyTo = parsed.replyTo?.value[0]?.address ?? '';
    const token = findReplyToken([replyTo]);
    expect(token).not.toBeNull();
    expect(verifyReplyToken(token!, SECRET)).toEqual({
      ok: true,
      ticketId: input().ticketId,
      version: '1',
    });
    expect(parsed.from?.value[0]?.address).toBe('support@example.test');
    expect(parsed.text).toContain('ticket 1042 is with IT Support.');
  });

  it('escapes values in the HTML body but not in the text body', async () => {
    const mail = composeMail(input({ values: { ...input().values, name: '<b>Eve</b> & co' } }));
    expect(mail.html).toContain('&lt;b&gt;Eve&lt;/b&gt; &amp; co');
    expect(mail.text).toContain('<b>Eve</b> & co');
  });

  it('CR/LF in the subject or a name cannot inject a header', async () => {
    const evil = 'x\r\nBcc: evil@x';
    const mail = composeMail(
      input({
        values: { ...input().values, title: evil },
        to: { email: 'alice@example.test', name: evil },
        support: { address: 'support@example.test', name: evil },
      }),
    );
    const source = await raw(mail);
    expect(source).not.toMatch(/^bcc:/im);
    const parsed = await simpleParser(source);
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.headers.has('bcc')).toBe(false);
    expect(parsed.subject).toBe('[#1042] We received your request: x Bcc: evil@x');
  });

  it('fails on a missing value or a malformed template, never sends holes', () => {
    expect(() => composeMail(input({ values: { title: 'x' } }))).toThrow(ComposeMailError);
    expect(() => parseMailTemplate('bad', 'Subject: hi\n--- text ---\nbody\n')).toThrow(
      /--- html ---/,
    );
    expect(templatePlaceholders(TEMPLATE).sort()).toEqual([
      'department',
      'name',
      'number',
      'title',
    ]);
    expect(() => ourMessageId('a b', 'x.test')).toThrow(ComposeMailError);
  });
});

import { readFileSync } from 'node:fs';
import { simpleParser, type AddressObject } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { describe, expect, it } from 'vitest';
import { composeMail, parseMailTemplate, type ComposedMail } from '@mailroom/mail';
import { envelopeAddress, rawMail } from './raw-mail.js';
import { DEFAULT_TEMPLATES_DIR } from './templates.js';

// rawMail writes the message nodemailer's MailComposer would write, in one pass. Each case
// is composed both ways: the header lines must be the same bytes, the parsed message the
// same mail.

const template = parseMailTemplate(
  'acknowledgement',
  readFileSync(`${DEFAULT_TEMPLATES_DIR}/acknowledgement.mail`, 'utf8'),
);

interface Case {
  title: string;
  name?: string;
  email?: string;
  inReplyTo?: string;
  supportName?: string;
}

const CASES: Record<string, Case> = {
  ascii: { title: 'VPN drops', name: 'Alice' },
  'no name': { title: 'VPN drops', name: '' },
  'unicode name and title': { title: 'Drucker brennt — Tönerwechsel 打印机', name: 'Jürgen Groß' },
  'quotes and specials in the name': { title: 'a "quoted" title', name: 'O\'Neil, "JJ"; <x@y>' },
  'encoded-word lookalike': { title: '=?utf-8?q?hello?= world', name: '=?utf-8?B?QQ==?=' },
  'header injection': {
    title: 'hi\r\nBcc: evil@example.test',
    name: 'Eve\r\nBcc: evil@example.test',
  },
  'long title with spaces': { title: 'word '.repeat(60).trim() },
  'long title without spaces': { title: 'x'.repeat(300) },
  'a body line longer than 998': { title: 'long', name: 'word '.repeat(240).trim() },
  'a body line of exactly 998': { title: 'long', name: 'word '.repeat(198) + 'w' },
  'long unicode title': { title: 'Größenänderung '.repeat(20).trim() },
  'dots, From and trailing spaces': { title: '.\nFrom me  \n..', name: 'Dot .' },
  'html specials': { title: '<script>alert("x")</script> & co', name: 'A&B' },
  'IDN domain': { title: 'idn', email: 'alice@bücher.example' },
  'unicode local part': { title: 'utf8', email: 'jürgen@example.test' },
  'uppercase address': { title: 'upper', email: 'Alice@Example.TEST' },
  'odd In-Reply-To': { title: 'irt', inReplyTo: 'no-brackets@client.example' },
  'In-Reply-To with spaces': { title: 'irt', inReplyTo: '<a b@client.example>' },
  'unicode In-Reply-To': { title: 'irt', inReplyTo: '<äbc@client.example>' },
  'support name with comma': { title: 'x', supportName: 'Support, Inc.' },
};

function compose(c: Case): ComposedMail {
  const number = 4711;
  return composeMail({
    template,
    values: {
      number: String(number),
      title: c.title,
      name: c.name || 'there',
      department: 'IT Support',
      priority: 'high',
      expectedResponse: 'within 1 business day',
      statusUrl: `http://127.0.0.1:18080/tickets/${number}?a=1&b=${'long'.repeat(30)}`,
    },
    ticketId: '0b7c3f7e-1f5e-4a5e-9a3e-2b9f0c1d2e3f',
    ticketNumber: number,
    to: { email: c.email ?? 'alice@example.test', name: c.name ?? 'Alice' },
    support: { address: 'support@example.test', name: c.supportName ?? 'Support' },
    replyTokenSecret: 'raw-mail-test-secret-0123456789',
    messageId: '<mailroom.3b1f8e52-7c1d-5b0e-9a53-1d2c3b4a5f60@mailroom.example.test>',
    inReplyTo: c.inReplyTo ?? '<CAB+x=1@mail.client.example>',
  });
}

const nodemailerRaw = (mail: ComposedMail) =>
  new Promise<Buffer>((resolve, reject) =>
    new MailComposer(mail).compile().build((err, out) => (err ? reject(err) : resolve(out))),
  );

/** Unfolded header lines by lower-cased name, of the header block only. */
function headerLines(raw: string): Map<string, string[]> {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]/g, ' ');
  const out = new Map<string, string[]>();
  for (const line of head.split('\r\n')) {
    const key = line.slice(0, line.indexOf(':')).toLowerCase();
    out.set(key, [...(out.get(key) ?? []), line]);
  }
  return out;
}

const COMPARED = [
  'from',
  'to',
  'reply-to',
  'subject',
  'message-id',
  'in-reply-to',
  'references',
  'auto-submitted',
  'x-auto-response-suppress',
  'mime-version',
];

const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  [a ?? []].flat().flatMap((o) => o.value);

describe('rawMail', () => {
  it.each(Object.entries(CASES))('%s: the same message as nodemailer composes', async (_, c) => {
    const mail = compose(c);
    const ours = rawMail(mail);
    const theirs = (await nodemailerRaw(mail)).toString('utf8');

    const a = headerLines(ours);
    const b = headerLines(theirs);
    for (const key of COMPARED)
      expect({ key, lines: a.get(key) }).toEqual({ key, lines: b.get(key) });
    expect(a.has('bcc')).toBe(false);
    for (const line of ours.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
    expect(ours).not.toMatch(/\r(?!\n)|(?<!\r)\n/); // CRLF only

    const [p, q] = await Promise.all([simpleParser(ours), simpleParser(theirs)]);
    expect(p.subject).toBe(q.subject);
    expect(p.text).toBe(q.text);
    expect(p.html).toBe(q.html);
    expect(addresses(p.from)).toEqual(addresses(q.from));
    expect(addresses(p.to)).toEqual(addresses(q.to));
    expect(addresses(p.replyTo)).toEqual(addresses(q.replyTo));
    expect(p.messageId).toBe(q.messageId);
    expect(p.inReplyTo).toBe(q.inReplyTo);
    expect(p.references).toEqual(q.references);
    expect(p.headers.get('bcc')).toBeUndefined();
    expect(p.attachments).toEqual([]);
    // The SMTP envelope as nodemailer's Mail layer would give it (IDN in punycode).
    const envelope = new MailComposer(mail).compile().getEnvelope();
    expect(envelopeAddress(mail.envelope.to)).toBe(envelope.to[0]);
  });

  it('writes ASCII text as 7bit up to 998 characters a line, anything else quoted-printable', () => {
    const encodings = (c: Case) =>
      [...rawMail(compose(c)).matchAll(/Content-Transfer-Encoding: (\S+)/g)].map((m) => m[1]);
    expect(encodings(CASES.ascii!)).toEqual(['7bit', '7bit']);
    // "Hello <name>," is 998 long in the text; the HTML line has <p> around it.
    expect(encodings(CASES['a body line of exactly 998']!)).toEqual(['7bit', 'quoted-printable']);
    expect(encodings(CASES['a body line longer than 998']!)).toEqual([
      'quoted-printable',
      'quoted-printable',
    ]);
    expect(encodings(CASES['unicode name and title']!)).toEqual([
      'quoted-printable',
      'quoted-printable',
    ]);
  });
});

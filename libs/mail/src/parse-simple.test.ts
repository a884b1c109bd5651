// The synchronous shortcut for single-part text mail must give exactly what mailparser
// gives. Compared on the real corpora (as they are, and with their real header blocks
// in front of single-part bodies) and on bodies in every encoding and charset it takes.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { describe, expect, it } from 'vitest';
import { parseMail } from './parse-mail.js';
import { parseSimple } from './parse-simple.js';
import { DATA_DIR, listFiles } from './test-support/fixtures.js';

const MAX = 50 * 1024 * 1024;
const corpus = [
  ...listFiles(`${DATA_DIR}/mail/bounces`, (n) => n.endsWith('.eml')),
  ...listFiles(`${DATA_DIR}/mail/mime`),
];
const replies = listFiles(`${DATA_DIR}/mail/replies`, (n) => n.endsWith('.txt'));

/** The shortcut's answer when it takes the message, else null; mailparser's always. */
async function both(source: Buffer) {
  return { simple: parseSimple(source, MAX), full: await parseMail(source, { simple: false }) };
}

/** Same result as mailparser whenever the shortcut answers; counts how often it did. */
async function expectSame(sources: Buffer[]): Promise<number> {
  let taken = 0;
  for (const source of sources) {
    const { simple, full } = await both(source);
    if (!simple) continue;
    taken++;
    expect(simple).toEqual(full);
  }
  return taken;
}

const CONTENT_HEADERS = /^(content-[a-z-]+|mime-version):/i;

/** A corpus message's real header block over a single-part body of our choosing. */
function withBody(source: Buffer, contentHeaders: string, body: Buffer): Buffer {
  const text = source.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const lines = (end < 0 ? text : text.slice(0, end)).split(/\r?\n(?![ \t])/);
  const kept = lines.filter((l) => !CONTENT_HEADERS.test(l)).join('\r\n');
  return Buffer.concat([Buffer.from(`${kept}\r\n${contentHeaders}\r\n\r\n`, 'latin1'), body]);
}

async function composed(options: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}

describe('parseSimple', () => {
  it('agrees with mailparser on every corpus message it takes', async () => {
    const taken = await expectSame(corpus.map((f) => readFileSync(f)));
    console.info(`parseSimple took ${taken} of ${corpus.length} corpus messages as they are`);
    expect(taken).toBeGreaterThan(20);
  });

  it('agrees on every real header block over text bodies', async () => {
    const body = Buffer.from('Hello,\r\n\r\nthe printer on floor 3 is jammed.\r\n-- \r\nAda\r\n');
    const sources = corpus.flatMap((f) => {
      const src = readFileSync(f);
      return [
        withBody(src, 'Content-Type: text/plain; charset=utf-8', body),
        withBody(src, 'Content-Type: text/plain', body),
        withBody(src, '', body),
      ];
    });
    const taken = await expectSame(sources);
    console.info(`parseSimple took ${taken} of ${sources.length} corpus header blocks`);
    expect(taken).toBeGreaterThan(corpus.length * 2);
  });

  it('agrees on reply bodies in every transfer encoding, charset and format', async () => {
    const sources: Buffer[] = [];
    for (const file of replies) {
      const text = readFileSync(file, 'utf8');
      const base = {
        from: `"${basename(file)}" <sender@example.test>`,
        to: 'support@example.test',
        subject: `Re: ${basename(file)} – ünïcödé`,
        messageId: `<${basename(file)}@example.test>`,
        date: new Date('2025-07-01T10:00:00Z'),
      };
      for (const textEncoding of ['quoted-printable', 'base64'] as const) {
        sources.push(await composed({ ...base, text, textEncoding }));
        sources.push(await composed({ ...base, html: `<p>${text}</p>`, textEncoding }));
      }
      const latin1 = Buffer.from(
        [...text].map((c) => (c.charCodeAt(0) > 0xff ? '?' : c)).join(''),
        'latin1',
      );
      sources.push(
        withBody(sources[0]!, 'Content-Type: text/plain; charset=iso-8859-1', latin1),
        withBody(sources[0]!, 'Content-Type: text/plain; charset="windows-1252"', latin1),
        withBody(sources[0]!, 'Content-Type: text/plain; charset=us-ascii', latin1),
        withBody(sources[0]!, 'Content-Type: text/plain; charset=x-unknown', latin1),
        withBody(
          sources[0]!,
          'Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes',
          Buffer.from(text.replace(/\n/g, ' \r\n')),
        ),
        withBody(sources[0]!, 'Content-Type: text/plain; format=flowed', Buffer.from(text)),
        withBody(
          sources[0]!,
          'Content-Type: text/plain\r\nContent-Transfer-Encoding: base64',
          Buffer.from(
            Buffer.from(text)
              .toString('base64')
              .replace(/(.{76})/g, '$1\r\n'),
          ),
        ),
      );
    }
    const taken = await expectSame(sources);
    console.info(`parseSimple took ${taken} of ${sources.length} composed messages`);
    expect(taken).toBeGreaterThan(replies.length * 8);
  });

  it('agrees on headers with encoded words, escapes and punycode', async () => {
    const body = 'Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n';
    const heads = [
      'From: "=\\?utf-8?Q?J=C3=B6rg?=" <jorg@b.test>',
      'From: =?utf-8?Q?J=C3=B6rg?= <jorg@b.test>',
      'From: =?utf-8?B?PGpvcmdAYi50ZXN0Pg==?=',
      'From: Jörg <jorg@xn--bcher-kva.test>',
      'From: "Team" <team@b.test>\r\nTo: Group: a@b.test, "=?utf-8?Q?B=C3=A9?=" <b@b.test>;',
      'From:   Padded Name   <a@b.test>  \r\nTo: undisclosed-recipients:;',
      'From: a@b.test\r\nSubject: =?utf-8?Q?caf=C3=A9?= =?utf-8?Q?_au_lait?=',
      'From: a@b.test\r\nSubject: literally =\\? and ?= here',
      'From: a@b.test\r\nSubject: caf\u00e9 in UTF-8 bytes',
    ];
    const sources = heads.flatMap((h) => [
      Buffer.from(`${h}\r\nMessage-ID: <1@b.test>\r\n${body}`),
      Buffer.from(
        `${h}\r\nMessage-ID: <1@b.test>\r\nContent-Type: text/plain; charset=utf-8; x-note="=\\?utf-8?Q?x?="; name="=?utf-8?Q?n=C3=A4me?="\r\n\r\nHi.\r\n`,
      ),
    ]);
    expect(await expectSame(sources)).toBe(sources.length);
  });

  it('leaves everything else to mailparser', async () => {
    const head =
      'From: a@b.test\r\nMessage-ID: <1@b.test>\r\nDate: Tue, 1 Jul 2025 10:00:00 +0000\r\n';
    const declined = [
      `${head}Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nhi\r\n--x--\r\n`,
      `${head}Content-Type: text/plain; boundary=x\r\n\r\n--x\r\nhi\r\n`,
      `${head}Content-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nhi\r\n`,
      `${head}Content-Type: application/pdf\r\n\r\n%PDF\r\n`,
      `${head}Content-Type: text/plain; charset=iso-2022-jp\r\n\r\nhi\r\n`,
      `${head}Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\naGk=\r\n`,
      '',
    ].map((s) => Buffer.from(s));
    for (const source of declined) expect(parseSimple(source, MAX)).toBeNull();
    // And the full parser still answers them as before.
    const empty = await parseMail(Buffer.alloc(0));
    expect(empty.ok ? null : empty.error.code).toBe('EMPTY_MESSAGE');
    expect(await expectSame([Buffer.from('\r\nno header at all\r\n')])).toBe(1);
  });
});

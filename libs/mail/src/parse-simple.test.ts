// The synchronous shortcut for single-part text mail must give exactly what mailparser
// gives. Compared on the real corpora (as they are, and with their real header blocks
// in front of single-part bodies) and on bodies in every encoding and charset it takes.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { describe, expect, it } from 'vitest';
import { parseMail } from './parse-mail.js';
import { mimeHead, parseSimple, plainAddresses, plainHead } from './parse-simple.js';
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

// nodemailer's address parser, the copy mailparser uses.
const fromMailparser = createRequire(createRequire(import.meta.url).resolve('mailparser'));
const addressparser = fromMailparser('nodemailer/lib/addressparser') as (text: string) => unknown;

/** The header block of a message, up to and with its empty line. */
function headerBlock(source: Buffer): Buffer {
  const end = source.indexOf('\r\n\r\n');
  const lf = source.indexOf('\n\n');
  if (end >= 0 && (lf < 0 || end < lf)) return source.subarray(0, end + 4);
  return lf >= 0 ? source.subarray(0, lf + 2) : source;
}

describe('the own reading of plain headers', () => {
  it('gives what mailsplit gives on every corpus header block it takes', () => {
    const blocks = corpus.map((f) => headerBlock(readFileSync(f)));
    const tricky = [
      'From: a@b.test\r\nContent-Type: multipart\r\n\r\n',
      'From: a@b.test\r\nContent-Type: multipart/x; boundary=q\r\n\r\n',
      'From: a@b.test\r\nContent-Type: text/plain; format=Flowed; DelSp=Yes\r\n\r\n',
      'From: a@b.test\r\nContent-type: text/plain\r\nContent-Type: text/html\r\n\r\n',
      'From: a@b.test\r\nContent-Transfer-Encoding:  Base64 \r\n\r\n',
      'From: a@b.test\r\nContent-Transfer-Encoding: 7bit (plain)\r\n\r\n',
      'From\r\n : a@b.test\r\n:odd\r\nno colon\r\n\tfolded: on\r\n\r\n',
      ' Leading: space\nSubject: lf only\r\nTo: a@b.test\r\n\r\n',
      'From a@b.test Tue Jul  1 10:00:00 2025\r\nFrom: a@b.test\r\n\r\n',
      'Subject: =?utf-8?Q?x?=\r\n\r\n',
      'Subject: caf\u00e9\r\n\r\n',
      'Content-Disposition: inline\r\n\r\n',
    ].map((s) => Buffer.from(s, 'latin1'));
    let taken = 0;
    for (const block of [...blocks, ...tricky]) {
      const plain = plainHead(block);
      if (!plain) continue;
      taken++;
      expect({ ...plain, structured: null }).toEqual(mimeHead(block));
    }
    console.info(`plainHead took ${taken} of ${blocks.length + tricky.length} header blocks`);
    expect(taken).toBeGreaterThan(blocks.length / 4);
    // Encoded words, 8-bit bytes, mbox lines and dispositions stay with mailsplit.
    for (const block of tricky.slice(-4)) expect(plainHead(block)).toBeNull();
  });

  it('reads plain address lists as nodemailer does, and declines the others', () => {
    // A small deterministic generator (LCG): names and addresses from pieces that
    // nodemailer reads plainly and pieces it reads otherwise (quotes, comments, groups).
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 8) % n;
    const pick = <T>(xs: readonly T[]) => xs[rnd(xs.length)]!;
    const words = ['Ada', "O'Brien", 'J.', 'van-der', 'x_y', 'A+B', '1', '.', '-', 'Zoë', '"Q"'];
    const odd = ['(c)', ':', ';', '\\', '[x]', '=?utf-8?Q?a?=', '@', '<', '>', '"'];
    const locals = ['a', 'first.last', 'a+tag', 'x_y-z', "o'k", 'a=b?c', '!#$%&*/^`{|}~'];
    const domains = [
      'b.test',
      'b',
      'sub.b-c.test',
      '-b.test',
      'b..test',
      'b.test.',
      'xn--bcher-kva.test',
    ];
    const spaces = ['', ' ', '  ', '\t'];
    const address = () => `${pick(locals)}@${pick(domains)}`;
    const name = () =>
      Array.from({ length: rnd(4) }, () => (rnd(8) === 0 ? pick(odd) : pick(words))).join(
        pick([' ', ' ', '  ']),
      );
    const entry = () => {
      if (rnd(3) === 0) return address();
      return `${name()}${pick(spaces)}<${address()}>`;
    };
    let plain = 0;
    const total = 5000;
    for (let i = 0; i < total; i++) {
      const list = Array.from(
        { length: 1 + rnd(3) },
        () => `${pick(spaces)}${entry()}${pick(spaces)}`,
      );
      const text = list.join(',');
      const ours = plainAddresses(text);
      if (ours === null) continue;
      plain++;
      expect(ours, text).toEqual(addressparser(text));
    }
    console.info(`plainAddresses read ${plain} of ${total} generated lists`);
    expect(plain).toBeGreaterThan(total / 5);
    expect(plain).toBeLessThan(total);
    for (const text of [
      '',
      'a@b.test,',
      'Group: a@b.test;',
      '"A, B" <a@b.test>',
      'a (c) <a@b.test>',
    ])
      expect(plainAddresses(text)).toBeNull();
  });
});

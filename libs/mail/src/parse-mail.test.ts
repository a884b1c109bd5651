import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { parseMail, type ParsedMail } from './parse-mail.js';
import { DATA_DIR, listFiles } from './test-support/fixtures.js';

const MIME_DIR = `${DATA_DIR}/mail/mime/mikel-mail`;

async function parseOk(source: string | Buffer): Promise<ParsedMail> {
  const r = await parseMail(Buffer.isBuffer(source) ? source : Buffer.from(source));
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}`);
  return r.mail;
}

describe('parseMail', () => {
  it('normalizes addresses, ids, dates and headers', async () => {
    const mail = await parseOk(
      [
        'From: "Ann Example" <Ann@Example.TEST>',
        'To: support@example.test, Bob <BOB@example.test>',
        'Cc: undisclosed:;',
        'Reply-To: <ann+reply@example.test>',
        'Subject: =?UTF-8?B?SGVsbG8g4pyT?=',
        'Message-ID: <abc@mail.example.test>',
        'In-Reply-To: <p1@x>',
        'References: <p0@x>\r\n <p1@x> <p0@x>',
        'Date: Tue, 1 Jul 2025 10:00:00 +0200',
        'Authentication-Results: mx.example.test; dkim=pass header.d=example.test',
        '',
        'Hello there',
      ].join('\r\n'),
    );
    expect(mail.from).toEqual([{ address: 'ann@example.test', name: 'Ann Example' }]);
    expect(mail.to.map((a) => a.address)).toEqual(['support@example.test', 'bob@example.test']);
    expect(mail.replyTo[0]?.address).toBe('ann+reply@example.test');
    expect(mail.subject).toBe('Hello ✓');
    expect(mail.messageId).toBe('<abc@mail.example.test>');
    expect(mail.inReplyTo).toBe('<p1@x>');
    expect(mail.references).toEqual(['<p0@x>', '<p1@x>']);
    expect(mail.date?.toISOString()).toBe('2025-07-01T08:00:00.000Z');
    expect(mail.authenticationResults).toHaveLength(1);
    expect(mail.text.trim()).toBe('Hello there');
    expect(mail.problems).toEqual([]);
  });

  it('converts HTML to text when there is no text part', async () => {
    const mail = await parseOk(
      'From: a@b.test\r\nMessage-ID: <1@b.test>\r\nDate: Tue, 1 Jul 2025 10:00:00 +0000\r\nContent-Type: text/html\r\n\r\n<p>Hi <b>there</b></p><p>second</p>',
    );
    expect(mail.hasHtml).toBe(true);
    expect(mail.text).toContain('Hi there');
    expect(mail.text).toContain('second');
  });

  it('reports problems as data instead of failing', async () => {
    const mail = await parseOk(
      'From: a@b.test\r\nDate: someday soon\r\nContent-Type: multipart/mixed\r\nContent-Transfer-Encoding: 9bit\r\n\r\nbody',
    );
    expect(mail.problems).toEqual(
      expect.arrayContaining([
        'no Message-ID header',
        'unparseable Date "someday soon"',
        'multipart/mixed without a boundary parameter',
        'unknown Content-Transfer-Encoding "9bit"',
      ]),
    );
    expect(mail.date).toBeNull();
  });

  it('flags an unknown charset', async () => {
    const mail = await parseOk(
      'From: a@b.test\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nqapla',
    );
    expect(mail.problems).toContain('unknown charset "x-klingon"');
  });

  it('returns MailParseError for empty or header-less input', async () => {
    const empty = await parseMail(Buffer.alloc(0));
    expect(empty.ok).toBe(false);
    if (!empty.ok) expect(empty.error.code).toBe('EMPTY_MESSAGE');
    const tooBig = await parseMail(Buffer.from('From: a@b.test\r\n\r\n' + 'x'.repeat(2000)), {
      maxBytes: 1000,
    });
    expect(tooBig.ok).toBe(false);
    if (!tooBig.ok) {
      expect(tooBig.error.code).toBe('TOO_LARGE');
      expect(tooBig.error.retriable).toBe(false);
    }
  });

  it('reports a failing source stream as a retriable error', async () => {
    const source = new Readable({
      read() {
        this.destroy(new Error('connection reset'));
      },
    });
    const r = await parseMail(source);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('SOURCE_ERROR');
      expect(r.error.retriable).toBe(true);
    }
  });

  it('streams attachments to a sink with size and sha256, without buffering them', async () => {
    const payload = Buffer.alloc(3 * 1024 * 1024, 7);
    const b64 = payload.toString('base64').replace(/.{76}/g, '$&\r\n');
    const source = [
      'From: a@b.test',
      'Message-ID: <att@b.test>',
      'Content-Type: multipart/mixed; boundary="XX"',
      '',
      '--XX',
      'Content-Type: text/plain',
      '',
      'see attached',
      '--XX',
      'Content-Type: application/octet-stream; name="big.bin"',
      'Content-Disposition: attachment; filename="big.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      b64,
      '--XX--',
      '',
    ].join('\r\n');
    let streamed = 0;
    const r = await parseMail(Readable.from([Buffer.from(source)]), {
      onAttachment: async (info, stream) => {
        expect(info.filename).toBe('big.bin');
        await pipeline(
          stream,
          new Writable({
            write(chunk: Buffer, _enc, cb) {
              streamed += chunk.length;
              cb();
            },
          }),
        );
        return 'blob-1';
      },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const [att] = r.mail.attachments;
    expect(streamed).toBe(payload.length);
    expect(att?.size).toBe(payload.length);
    expect(att?.sha256).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(att?.content).toBeUndefined();
    expect(att?.ref).toBe('blob-1');
    expect(r.mail.text).toContain('see attached');
  });

  it('turns a failing attachment sink into a retriable error', async () => {
    const source =
      'From: a@b.test\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF\r\n--B--\r\n';
    const r = await parseMail(Buffer.from(source), {
      onAttachment: () => Promise.reject(new Error('blob store down')),
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('ATTACHMENT_SINK_FAILED');
      expect(r.error.retriable).toBe(true);
    }
  });
});

describe('mikel/mail corpus', () => {
  const files = listFiles(MIME_DIR);

  it('parses every file without crashing or hanging', async () => {
    let parsed = 0;
    const errored: string[] = [];
    for (const file of files) {
      const started = Date.now();
      const r = await parseMail(readFileSync(file), { timeoutMs: 5_000 });
      expect(Date.now() - started).toBeLessThan(6_000);
      if (r.ok) parsed++;
      else errored.push(`${relative(MIME_DIR, file)}: ${r.error.code} ${r.error.reason}`);
    }
    console.info(
      `mikel-mail: ${files.length} files, ${parsed} parsed, ${errored.length} errored`,
      errored,
    );
    expect(parsed + errored.length).toBe(files.length);
    // Every message file must become a ticket; only the non-mail files may be dead letters.
    expect(errored.every((e) => e.startsWith('LICENSE') || e.startsWith('sample_output'))).toBe(
      true,
    );
    expect(parsed).toBeGreaterThanOrEqual(files.filter((f) => f.endsWith('.eml')).length);
  });

  it('decodes Japanese, Korean and attachment names', async () => {
    const sjis = await parseOk(readFileSync(`${MIME_DIR}/multi_charset/japanese_shift_jis.eml`));
    expect(sjis.text).toContain('あいうえお');
    const ks = await parseOk(readFileSync(`${MIME_DIR}/multi_charset/ks_c_5601-1987.eml`));
    expect(ks.text).toContain('스티해');
    const att = await parseOk(
      readFileSync(`${MIME_DIR}/attachment_emails/attachment_nonascii_filename.eml`),
    );
    expect(att.attachments[0]?.filename).toBe('ciële.txt');
    expect(att.attachments[0]?.content?.length).toBe(att.attachments[0]?.size);
  });

  it('keeps malformed dates as problems, not as "now"', async () => {
    const m = await parseOk(readFileSync(`${MIME_DIR}/plain_emails/raw_email_with_bad_date.eml`));
    expect(m.date).toBeNull();
    expect(m.problems.some((p) => p.startsWith('unparseable Date'))).toBe(true);
  });
});

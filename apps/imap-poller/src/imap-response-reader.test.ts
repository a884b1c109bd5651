import { describe, expect, it } from 'vitest';
import {
  ImapProtocolError,
  ResponseReader,
  codeArgument,
  fetchDataOf,
  quoteArg,
  statusOf,
  type ImapResponse,
} from './imap-response-reader.js';
import { encodeMailboxName } from './bulk-connection.js';

const b = (s: string) => Buffer.from(s, 'latin1');

function readAll(chunks: Buffer[], maxLiteralBytes = 1 << 20): ImapResponse[] {
  const out: ImapResponse[] = [];
  const r = new ResponseReader((x) => out.push(x), { maxLiteralBytes });
  for (const c of chunks) r.push(c);
  expect(r.idle).toBe(true);
  return out;
}

/** Every way to cut `wire` in two, three and into single bytes. */
function* splits(wire: Buffer): Generator<Buffer[]> {
  yield [wire];
  for (let i = 1; i < wire.length; i++) yield [wire.subarray(0, i), wire.subarray(i)];
  for (let i = 1; i < wire.length; i += 7)
    for (let j = i + 1; j < wire.length; j += 5)
      yield [wire.subarray(0, i), wire.subarray(i, j), wire.subarray(j)];
  yield [...wire].map((x) => Buffer.from([x]));
}

// A body that looks like protocol: literal markers at line ends, tagged lines, CRLFs.
const tricky = '* 9 FETCH (UID 1 BODY[] {3}\r\nB7 OK fake\r\n)\r\n{5}\r\n\r\n';
const wire = b(
  [
    '* 12 EXISTS\r\n',
    `* 1 FETCH (UID 101 BODY[]<0> {${tricky.length}}\r\n${tricky})\r\n`,
    '* 2 FETCH (FLAGS (\\Seen $Label "x)y") UID 102 BODY[]<0>{4}\r\nab\r\n)\r\n',
    '* 3 EXPUNGE\r\n',
    '* 3 FETCH (BODY[]<0> "quoted \\"body\\"" UID 103)\r\n',
    '* 4 FETCH (UID 104 BODY[] NIL)\r\n',
    '* 5 FETCH (FLAGS (\\Seen) UID 105)\r\n',
    '* 6 FETCH (UID 106 BODY[HEADER.FIELDS (SUBJECT FROM)] {10}\r\nSubject:\r\n BODY[]<0> {0}\r\n)\r\n',
    'B3 OK [READ-ONLY] FETCH done\r\n',
  ].join(''),
);

describe('ResponseReader', () => {
  it('reads the same responses however the stream is cut', () => {
    const whole = readAll([wire]);
    expect(whole.map((r) => statusOf(r).kind)).toEqual([
      'EXISTS',
      'FETCH',
      'FETCH',
      'EXPUNGE',
      'FETCH',
      'FETCH',
      'FETCH',
      'FETCH',
      'OK',
    ]);
    const fetches = whole.map(fetchDataOf);
    expect(fetches[1]).toEqual({ seq: 1, uid: 101, body: b(tricky) });
    expect(fetches[2]).toEqual({ seq: 2, uid: 102, body: b('ab\r\n') });
    expect(fetches[3]).toBeNull();
    expect(fetches[4]).toEqual({ seq: 3, uid: 103, body: b('quoted "body"') });
    expect(fetches[5]).toEqual({ seq: 4, uid: 104, body: null });
    expect(fetches[6]).toEqual({ seq: 5, uid: 105, body: undefined });
    // BODY[HEADER.FIELDS …] is another section; the empty BODY[]<0> literal is the body.
    expect(fetches[7]).toEqual({ seq: 6, uid: 106, body: b('') });
    const tagged = statusOf(whole[8]!);
    expect(tagged).toEqual({ tag: 'B3', kind: 'OK', code: 'READ-ONLY', text: 'FETCH done' });
    for (const chunks of splits(wire)) {
      const got = readAll(chunks);
      expect(got).toEqual(whole);
    }
  });

  it('copies literals out of the chunks they came in', () => {
    const chunk = b('* 1 FETCH (UID 7 BODY[] {3}\r\nabc)\r\n');
    const [r] = readAll([chunk]);
    const body = fetchDataOf(r!)!.body as Buffer;
    chunk.fill(0x78);
    expect(body.toString()).toBe('abc');
  });

  it('skips a literal above the cap, counting its bytes, and goes on after it', () => {
    const big = 'x'.repeat(5000);
    const w = b(
      `* 1 FETCH (UID 7 BODY[]<0> {5000}\r\n${big})\r\n* 2 FETCH (UID 8 BODY[]<0> {2}\r\nok)\r\nB1 OK\r\n`,
    );
    for (const chunks of [[w], [w.subarray(0, 100), w.subarray(100, 4000), w.subarray(4000)]]) {
      const got = readAll(chunks, 1000);
      expect(fetchDataOf(got[0]!)).toEqual({ seq: 1, uid: 7, body: { tooLarge: 5000 } });
      expect(fetchDataOf(got[1]!)).toEqual({ seq: 2, uid: 8, body: b('ok') });
      expect(statusOf(got[2]!).kind).toBe('OK');
    }
  });

  it('reads tagged NO and BAD, untagged BYE and continuations', () => {
    const got = readAll([
      b(
        '+ go ahead\r\nB2 NO [UNAVAILABLE] try later\r\nB3 BAD parse error\r\n* BYE shutting down\r\n',
      ),
    ]);
    expect(got.map(statusOf)).toEqual([
      { tag: '+', kind: '', code: null, text: 'go ahead' },
      { tag: 'B2', kind: 'NO', code: 'UNAVAILABLE', text: 'try later' },
      { tag: 'B3', kind: 'BAD', code: null, text: 'parse error' },
      { tag: '*', kind: 'BYE', code: null, text: 'shutting down' },
    ]);
  });

  it('holds nothing back: a response is delivered once its last line is in', () => {
    const out: ImapResponse[] = [];
    const r = new ResponseReader((x) => out.push(x), { maxLiteralBytes: 100 });
    r.push(b('* 1 FETCH (UID 1 BODY[] {2}\r\nhi'));
    expect(out).toHaveLength(0);
    expect(r.idle).toBe(false);
    r.push(b(')\r'));
    expect(out).toHaveLength(0);
    r.push(b('\n'));
    expect(out).toHaveLength(1);
    expect(r.idle).toBe(true);
  });

  it('fails on a line over its limit and on malformed FETCH data', () => {
    const r = new ResponseReader(() => undefined, { maxLiteralBytes: 10, maxLineBytes: 64 });
    expect(() => r.push(b(`* OK ${'x'.repeat(100)}`))).toThrow(ImapProtocolError);
    const bad = (s: string) => () => fetchDataOf(readAll([b(s)])[0]!);
    expect(bad('* 1 FETCH (UID 1 BODY[] "unterminated)\r\n')).toThrow(ImapProtocolError);
    expect(bad('* 1 FETCH (UID x1 BODY[] NIL)\r\n')).toThrow(/bad UID/);
    expect(bad('* 1 FETCH (UID 1 BODY[] NIL\r\n')).toThrow(/cut short/);
    expect(bad('* 1 FETCH (UID 1 BODY[] {3})\r\n')).toThrow(/without literal/);
  });
});

describe('argument helpers', () => {
  it('reads response code arguments', () => {
    expect(codeArgument('UIDVALIDITY 3857529045', 'UIDVALIDITY')).toBe('3857529045');
    expect(codeArgument('UIDNEXT 5', 'UIDVALIDITY')).toBeNull();
    expect(codeArgument(null, 'UIDVALIDITY')).toBeNull();
  });

  it('quotes what a quoted string can hold, nothing else', () => {
    expect(quoteArg('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteArg('Grüße')).toBeNull();
    expect(quoteArg('a\r\nb')).toBeNull();
  });

  it('encodes mailbox names in modified UTF-7 (RFC 3501 §5.1.3)', () => {
    expect(encodeMailboxName('INBOX')).toBe('INBOX');
    expect(encodeMailboxName('R&D')).toBe('R&-D');
    expect(encodeMailboxName('Entwürfe')).toBe('Entw&APw-rfe');
    expect(encodeMailboxName('~peter/mail/台北/日本語')).toBe('~peter/mail/&U,BTFw-/&ZeVnLIqe-');
  });
});

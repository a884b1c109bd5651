import { describe, expect, it } from 'vitest';
import { createLogger } from '@mailroom/observability';
import { sha256Of } from './blob-store.js';
import { ingestSimple, type Ingested } from './ingest-message.js';
import { startParsePool } from './parse-pool.js';

const automated = { ourAddresses: ['support@example.test'] };
const mail = (lines: string[]) => Buffer.from(lines.join('\r\n'));
const batch = [
  mail([
    'From: Ann <ann@customer.test>',
    'To: support@example.test',
    'Subject: =?utf-8?q?Dr=C3=BCcker?= jammed',
    'Message-ID: <a1@customer.test>',
    'Date: Thu, 01 Jan 2026 10:00:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'The printer is jammed.',
    '',
  ]),
  // No usable sender: a dead letter.
  mail(['To: support@example.test', 'Subject: who?', '', 'anonymous', '']),
  // Multipart: the full parser's (null from a parse thread).
  mail([
    'From: Bob <bob@customer.test>',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'see attachment',
    '--b--',
    '',
  ]),
];

/** What does not depend on where or when it was built. */
const stable = (r: Ingested | null | 'again') => {
  if (r === null || r === 'again') return r;
  const value = JSON.parse(String(r.message.value)) as {
    occurredAt?: string;
    payload?: { receivedAt?: string };
  };
  delete value.occurredAt;
  if (value.payload) delete value.payload.receivedAt;
  const { traceparent: _t, 'x-failed-at': _f, ...headers } = r.message.headers ?? {};
  return { ...r, message: { ...r.message, value, headers } };
};

describe('parse threads', () => {
  it('build the records the main thread builds', async () => {
    const pool = await startParsePool(2, automated, createLogger({ name: 't', level: 'warn' }));
    try {
      const ends: number[] = [];
      let at = 0;
      for (const m of batch) ends.push((at += m.length));
      const sha256 = batch.map(sha256Of);
      const got = await pool.parse({
        data: Buffer.concat(batch),
        ends,
        uids: [1, 2, 3],
        sizes: batch.map((m) => m.length),
        sha256,
        mailbox: 'support@example.test',
        uidValidity: '7',
      });
      const want = batch.map((m, i) =>
        ingestSimple(
          m,
          { sha256: sha256[i]!, size: m.length },
          { mailbox: 'support@example.test', uidValidity: '7', uid: i + 1, size: m.length },
          { blobs: undefined as never, automated },
        ),
      );
      expect(got.map((r) => r !== null && r !== 'again' && r.kind)).toEqual([
        'email',
        'dead_letter',
        false,
      ]);
      expect(got.map(stable)).toEqual(want.map(stable));
    } finally {
      await pool.close();
    }
  });
});

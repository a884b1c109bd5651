// Large mail is streamed, never fetched whole; the size cap, a UIDVALIDITY change and
// the \Seen flag and move after Kafka acked behave as documented. Against Dovecot (a
// real server, mail on disk).
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import { DLQ_TOPICS, TOPICS } from '@mailroom/events';
import { createKafka, createProducer, parseBrokers, type MailroomProducer } from '@mailroom/kafka';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import { createPgBlobStore, type BlobStore } from '../src/blob-store.js';
import { ImapPollerConfig } from '../src/config.js';
import { STREAM_THRESHOLD } from '../src/ingest-batch.js';
import { start } from '../src/start.js';
import {
  emailPayloads,
  appendAll,
  dovecotMailbox,
  dropMailbox,
  smallMessage,
  watch,
  withImap,
  type TestMailbox,
  type Watched,
  pollerEnv,
} from './support.js';

const logger = testLogger();
const pool = createPool({ url: stackEnv('DATABASE_URL') });
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'large-mail',
  logger,
});
let producer: MailroomProducer;
let raw: Watched;
let dlq: Watched;

beforeAll(async () => {
  producer = await createProducer(kafka);
  raw = await watch(kafka, producer, logger, TOPICS.raw, false);
  dlq = await watch(kafka, producer, logger, DLQ_TOPICS.raw, false);
  await Promise.all([raw.consumer.joined, dlq.consumer.joined]);
  await new Promise((r) => setTimeout(r, 1000));
}, 120_000);

afterAll(async () => {
  await Promise.all([raw?.consumer.stop(), dlq?.consumer.stop()]);
  await producer?.disconnect();
  await pool.end();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const nameOf = (box: TestMailbox) => `${box.user}/${box.folder}`;

/** What the poller handed to the blob store: the seam `start()` offers. */
function recordingBlobs() {
  const pg = createPgBlobStore(pool);
  const seen = { largestPutMany: 0, streams: [] as { contentType: string; chunks: number[] }[] };
  const blobs: BlobStore = {
    ...pg,
    putMany: (items) => {
      for (const i of items) seen.largestPutMany = Math.max(seen.largestPutMany, i.content.length);
      return pg.putMany(items);
    },
    putStream: (content: Readable, contentType) => {
      const stream = { contentType, chunks: [] as number[] };
      seen.streams.push(stream);
      content.on('data', (c: Buffer) => stream.chunks.push(c.length));
      return pg.putStream(content, contentType);
    },
  };
  return { blobs, seen };
}

async function bigMail(tag: string, attachment: Buffer): Promise<Buffer> {
  return new MailComposer({
    from: 'Big Customer <big@customer.test>',
    to: 'support@example.test',
    subject: `${tag} crash dump`,
    messageId: `<${tag}-big@customer.test>`,
    text: 'The dump is attached.',
    attachments: [{ filename: 'dump.bin', content: attachment }],
  })
    .compile()
    .build();
}

async function runPoller(box: TestMailbox, env: Record<string, string>, blobs?: BlobStore) {
  return start(
    loadConfig(ImapPollerConfig, {
      ...process.env,
      ...pollerEnv(box),
      METRICS_PORT: '0',
      ...env,
    }),
    { logger, ...(blobs ? { blobs } : {}) },
  );
}

const recordsOf = (box: TestMailbox) => emailPayloads(raw.records, nameOf(box));

describe('large mail', () => {
  it('streams a message above the threshold into the blob store and the parser', async () => {
    const box = await dovecotMailbox();
    const tag = unique('big');
    const attachment = randomBytes(3 * 1024 * 1024);
    const big = await bigMail(tag, attachment);
    expect(big.length).toBeGreaterThan(STREAM_THRESHOLD);
    await appendAll(box, [smallMessage(1, tag), big, smallMessage(3, tag)]);
    const { blobs, seen } = recordingBlobs();
    const poller = await runPoller(box, {}, blobs);
    try {
      const records = await waitFor(() => (recordsOf(box).length >= 3 ? recordsOf(box) : null), {
        what: 'three records',
        timeoutMs: 60_000,
      });
      const record = records.find((r) => r.messageId === `<${tag}-big@customer.test>`)!;
      // The big message was never fetched whole: not in the batch INSERT, but streamed
      // in chunks, the raw message and its attachment each into a blob of its own.
      expect(seen.largestPutMany).toBeLessThan(STREAM_THRESHOLD);
      const rawStream = seen.streams.find((s) => s.contentType === 'message/rfc822')!;
      expect(rawStream.chunks.reduce((a, b) => a + b, 0)).toBe(big.length);
      expect(rawStream.chunks.length).toBeGreaterThan(3);
      expect(Math.max(...rawStream.chunks)).toBeLessThanOrEqual(1024 * 1024);
      const attachmentStream = seen.streams.find((s) => s.contentType !== 'message/rfc822')!;
      expect(attachmentStream.chunks.reduce((a, b) => a + b, 0)).toBe(attachment.length);

      expect(record.rawBlobId).toBe(sha256(big));
      expect(record.size).toBe(big.length);
      expect(record.attachments).toEqual([
        {
          blobId: sha256(attachment),
          filename: 'dump.bin',
          contentType: 'application/octet-stream',
          size: attachment.length,
        },
      ]);
      const stored = await blobs.get(sha256(attachment));
      expect(stored?.content.equals(attachment)).toBe(true);
      await waitFor(async () => (await checkpointOf(box)) === 3, { what: 'checkpoint at UID 3' });
    } finally {
      await poller.stop();
      await dropMailbox(box);
    }
  }, 120_000);

  it('caps the size: a ticket with a note and the whole raw message, or a dead letter', async () => {
    const tag = unique('cap');
    const big = await bigMail(tag, randomBytes(2 * 1024 * 1024));
    const limit = 1024 * 1024;
    for (const mode of ['ticket', 'dlq'] as const) {
      const box = await dovecotMailbox();
      await appendAll(box, [big]);
      const poller = await runPoller(box, {
        IMAP_MAX_MESSAGE_BYTES: String(limit),
        IMAP_OVERSIZED: mode,
      });
      try {
        if (mode === 'ticket') {
          const [record] = await waitFor(() => (recordsOf(box).length ? recordsOf(box) : null), {
            what: 'the oversized record',
          });
          expect(record!.oversized).toEqual({ limit, size: big.length });
          expect(record!.problems[0]).toMatch(/above the limit/);
          expect(record!.rawBlobId).toBe(sha256(big));
        } else {
          const dead = await waitFor(
            () => dlq.records.find((r) => r.headers['x-source-mailbox'] === nameOf(box)),
            { what: 'the dead letter' },
          );
          expect(dead.headers['x-error-code']).toBe('TOO_LARGE');
          expect(dead.headers['x-blob-id']).toBe(sha256(big));
        }
        const rawBlob = await pool.query<{ size: string }>(
          'select size from blobs where sha256 = $1',
          [sha256(big)],
        );
        expect(Number(rawBlob.rows[0]?.size)).toBe(big.length);
      } finally {
        await poller.stop();
        await dropMailbox(box);
      }
    }
  }, 120_000);

  it('re-scans the folder from UID 1 when UIDVALIDITY changed', async () => {
    const box = await dovecotMailbox();
    const tag = unique('uidv');
    await appendAll(
      box,
      Array.from({ length: 5 }, (_, i) => smallMessage(i, tag)),
    );
    // A checkpoint from an earlier life of the folder, far beyond its UIDs.
    await pool.query(
      `insert into imap_checkpoints (mailbox, uid_validity, last_uid, updated_at)
       values ($1, '1', 999999, now())`,
      [nameOf(box)],
    );
    const poller = await runPoller(box, {});
    try {
      const records = await waitFor(() => (recordsOf(box).length >= 5 ? recordsOf(box) : null), {
        what: 'every message produced again',
      });
      expect(new Set(records.map((r) => r.messageId)).size).toBe(5);
      await waitFor(async () => (await checkpointOf(box)) === 5, { what: 'checkpoint at UID 5' });
    } finally {
      await poller.stop();
      await dropMailbox(box);
    }
  }, 120_000);
});

describe('after Kafka acked', () => {
  it('flags the window \\Seen and moves it to the processed folder', async () => {
    const box = await dovecotMailbox();
    const done: TestMailbox = { ...box, folder: `${box.folder}-done` };
    await withImap(box, (c) => c.mailboxCreate(done.folder));
    const tag = unique('move');
    await appendAll(
      box,
      Array.from({ length: 7 }, (_, i) => smallMessage(i, tag)),
    );
    const poller = await runPoller(box, {
      IMAP_PROCESSED_FOLDER: done.folder,
      IMAP_BATCH_SIZE: '3',
    });
    try {
      await waitFor(async () => (await checkpointOf(box)) === 7, { what: 'checkpoint at UID 7' });
      const moved = await waitFor(
        () =>
          withImap(done, async (c) => {
            await c.mailboxOpen(done.folder);
            const all = await c.fetchAll('1:*', { uid: true, flags: true }, { uid: true });
            return all.length === 7 ? all : null;
          }),
        { what: 'seven messages moved' },
      );
      expect(moved.every((m) => m.flags?.has('\\Seen'))).toBe(true);
      const left = await withImap(
        box,
        async (c) => ((await c.status(box.folder, { messages: true })) || undefined)?.messages,
      );
      expect(left).toBe(0);
      // The test's own consumer of tickets.raw may lag behind the poller.
      await waitFor(() => recordsOf(box).length >= 7, { what: 'seven records' });
      expect(recordsOf(box)).toHaveLength(7);
    } finally {
      await poller.stop();
      await dropMailbox(done);
      await dropMailbox(box);
    }
  }, 120_000);
});

async function checkpointOf(box: TestMailbox): Promise<number> {
  const { rows } = await pool.query<{ last_uid: string }>(
    'select last_uid from imap_checkpoints where mailbox = $1',
    [nameOf(box)],
  );
  return Number(rows[0]?.last_uid ?? -1);
}

import type { FetchMessageObject, ImapFlow } from 'imapflow';
import type pg from 'pg';
import { DLQ_TOPICS, TOPICS } from '@mailroom/events';
import { classifyError, errorCode, type MailroomProducer, type Message } from '@mailroom/kafka';
import type { Logger } from '@mailroom/observability';
import type { BlobStore } from './blob-store.js';
import { deadLetter, type MessageOrigin } from './build-record.js';
import { ingestBuffer, ingestStream, type IngestDeps, type Ingested } from './ingest-message.js';
import type { PollerMetrics } from './metrics.js';
import { markUndeliverable } from './undeliverable.js';

export interface BatchDeps {
  mailbox: string;
  pool: pg.Pool;
  blobs: BlobStore;
  producer: MailroomProducer;
  ingest: IngestDeps;
  metrics: PollerMetrics;
  logger: Logger;
  maxMessageBytes: number;
  oversized: 'ticket' | 'dlq';
}

/** Above this a message is streamed (download) instead of fetched whole with its batch. */
export const STREAM_THRESHOLD = 1024 * 1024;
// Bytes of small messages fetched in one FETCH: bounds memory whatever the batch size.
const FETCH_BYTES = 16 * 1024 * 1024;
const PARSE_CONCURRENCY = 8;
// Under the broker's default message.max.bytes (1 MiB) per produce request.
const PRODUCE_BYTES = 800 * 1024;

/**
 * `1:500,502` instead of 500 comma-separated UIDs: servers resolve a range in one
 * step, while some (GreenMail) look up every listed UID by a scan of the folder.
 */
export function uidSet(uids: readonly number[]): string {
  const sorted = [...uids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Sends in requests of bounded size; resolves once Kafka acked all (acks=all). */
export async function sendBounded(
  producer: MailroomProducer,
  topic: string,
  messages: Message[],
): Promise<void> {
  let group: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = Buffer.byteLength(m.value ?? '') + 200;
    if (group.length > 0 && bytes + size > PRODUCE_BYTES) {
      await producer.send(topic, group);
      group = [];
      bytes = 0;
    }
    group.push(m);
    bytes += size;
  }
  if (group.length > 0) await producer.send(topic, group);
}

/**
 * A bug of ours on one message must not stall the mailbox forever: anything that is
 * not a fault of the world (database, network) dead-letters that message with the
 * reason; faults of the world fail the batch, which is retried from the checkpoint.
 */
async function guarded(origin: MessageOrigin, fn: () => Promise<Ingested>): Promise<Ingested> {
  try {
    return await fn();
  } catch (err) {
    if (classifyError(err) === 'transient') throw err;
    const code = errorCode(err);
    const reason = err instanceof Error ? err.message : String(err);
    return { kind: 'dead_letter', code, message: deadLetter(origin, code, reason, null) };
  }
}

async function ingestLarge(
  client: ImapFlow,
  m: { uid: number; size: number },
  origin: MessageOrigin,
  deps: BatchDeps,
): Promise<Ingested> {
  const download = async (maxBytes?: number) => {
    const d = await client.download(String(m.uid), undefined, {
      uid: true,
      chunkSize: 1024 * 1024,
      ...(maxBytes ? { maxBytes } : {}),
    });
    if (!d.content) throw Object.assign(new Error(`message ${m.uid} vanished`), { code: 'GONE' });
    return d.content;
  };
  if (m.size <= deps.maxMessageBytes) return ingestStream(await download(), origin, deps.ingest);
  deps.metrics.messages.inc({ mailbox: deps.mailbox, outcome: 'oversized' });
  // Whole raw message first (streamed), so nothing is lost whatever happens next.
  const raw = await deps.blobs.putStream(await download(), 'message/rfc822');
  if (deps.oversized === 'dlq') {
    const reason = `message is ${m.size} bytes, above IMAP_MAX_MESSAGE_BYTES=${deps.maxMessageBytes}`;
    return {
      kind: 'dead_letter',
      code: 'TOO_LARGE',
      message: deadLetter(origin, 'TOO_LARGE', reason, raw.sha256),
    };
  }
  const cut = await download(deps.maxMessageBytes);
  return ingestStream(cut, origin, deps.ingest, {
    raw,
    oversized: { limit: deps.maxMessageBytes, size: m.size },
  });
}

/**
 * Ingests one batch (UIDs ascending) and produces its records. Returns once Kafka
 * acked every record of the batch; only then may the caller move the checkpoint.
 */
export async function ingestBatch(
  client: ImapFlow,
  batch: readonly { uid: number; size: number }[],
  uidValidity: string,
  deps: BatchDeps,
): Promise<void> {
  const origin = (m: { uid: number; size: number }): MessageOrigin => ({
    mailbox: deps.mailbox,
    uidValidity,
    uid: m.uid,
    size: m.size,
  });
  const results: Ingested[] = [];
  // Where a batch spends its time (debug): IMAP fetch, blobs + parse, Kafka.
  const timing = { fetchMs: 0, ingestMs: 0, produceMs: 0 };
  let mark = performance.now();
  const lap = (k: keyof typeof timing) => {
    const now = performance.now();
    timing[k] += now - mark;
    mark = now;
  };
  const small = batch.filter((m) => m.size <= STREAM_THRESHOLD);
  for (let i = 0; i < small.length;) {
    const group: typeof small = [];
    for (let bytes = 0; i < small.length && (group.length === 0 || bytes < FETCH_BYTES); i++) {
      group.push(small[i]!);
      bytes += small[i]!.size;
    }
    const fetched: FetchMessageObject[] = await client.fetchAll(
      uidSet(group.map((m) => m.uid)),
      { uid: true, source: true },
      { uid: true },
    );
    lap('fetchMs');
    // A message expunged since the listing has nothing to ingest.
    const withSource = fetched.filter((f): f is FetchMessageObject & { source: Buffer } =>
      Boolean(f.source),
    );
    const refs = await deps.blobs.putMany(
      withSource.map((f) => ({ content: f.source, contentType: 'message/rfc822' })),
    );
    const sizes = new Map(group.map((m) => [m.uid, m.size]));
    results.push(
      ...(await mapLimit(
        withSource.map((f, k) => ({ f, ref: refs[k]! })),
        PARSE_CONCURRENCY,
        ({ f, ref }) => {
          const o = origin({ uid: f.uid, size: sizes.get(f.uid) ?? f.source.length });
          return guarded(o, () => ingestBuffer(f.source, ref, o, deps.ingest));
        },
      )),
    );
    lap('ingestMs');
  }
  for (const m of batch.filter((x) => x.size > STREAM_THRESHOLD)) {
    const o = origin(m);
    try {
      results.push(await guarded(o, () => ingestLarge(client, m, o, deps)));
    } catch (err) {
      if (errorCode(err) !== 'GONE') throw err;
      deps.logger.info({ uid: m.uid }, 'message expunged before it was fetched');
    }
  }

  lap('ingestMs');
  const emails = results.filter((r) => r.kind === 'email');
  const dead = results.filter((r) => r.kind === 'dead_letter');
  const bounced = await markUndeliverable(
    deps.pool,
    emails.map((e) => ({ addresses: e.bouncedRecipients, reason: e.bounceReason })),
  );
  await sendBounded(
    deps.producer,
    TOPICS.raw,
    emails.map((e) => e.message),
  );
  await sendBounded(
    deps.producer,
    DLQ_TOPICS.raw,
    dead.map((d) => d.message),
  );
  lap('produceMs');
  deps.logger.debug({ messages: batch.length, ...timing }, 'batch ingested');
  deps.metrics.messages.inc({ mailbox: deps.mailbox, outcome: 'produced' }, emails.length);
  deps.metrics.messages.inc({ mailbox: deps.mailbox, outcome: 'dead_lettered' }, dead.length);
  const bounces = emails.filter((e) => e.bounceReason !== null).length;
  deps.metrics.messages.inc({ mailbox: deps.mailbox, outcome: 'bounce' }, bounces);
  if (bounced) deps.logger.info({ addresses: bounced }, 'bounced recipients marked undeliverable');
  for (const d of dead) {
    deps.logger.warn(
      { code: d.code, key: d.message.key, reason: d.message.headers?.['x-error-message'] },
      'message dead-lettered',
    );
  }
}

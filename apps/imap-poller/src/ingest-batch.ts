import type { ImapFlow } from 'imapflow';
import type pg from 'pg';
import { DLQ_TOPICS, TOPICS } from '@mailroom/events';
import { classifyError, errorCode, type MailroomProducer, type Message } from '@mailroom/kafka';
import type { Logger } from '@mailroom/observability';
import { sha256Of, type BlobRef, type BlobStore } from './blob-store.js';
import { deadLetter, type MessageOrigin } from './build-record.js';
import {
  ingestBuffer,
  ingestSimple,
  ingestStream,
  type IngestDeps,
  type Ingested,
} from './ingest-message.js';
import type { PollerMetrics } from './metrics.js';
import { paced } from './stream-pacer.js';
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

/** Above this a message is streamed (download) instead of fetched whole with its window. */
export const STREAM_THRESHOLD = 1024 * 1024;
const PARSE_CONCURRENCY = 8;
// Under the broker's default message.max.bytes (1 MiB) per produce request.
const PRODUCE_BYTES = 800 * 1024;
// Chunks of a streamed download: fewer round trips than imapflow's 64 KiB default,
// still small beside the attachment itself.
const DOWNLOAD_CHUNK = 1024 * 1024;

/** A small message as the window's FETCH returned it. */
export interface FetchedMessage {
  uid: number;
  size: number;
  source: Buffer;
}

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
    return deadLetterOf(origin, err);
  }
}

function guardedSync<T extends Ingested | null>(origin: MessageOrigin, fn: () => T): T | Ingested {
  try {
    return fn();
  } catch (err) {
    return deadLetterOf(origin, err);
  }
}

function deadLetterOf(origin: MessageOrigin, err: unknown): Ingested {
  if (classifyError(err) === 'transient') throw err;
  const code = errorCode(err);
  const reason = err instanceof Error ? err.message : String(err);
  return { kind: 'dead_letter', code, message: deadLetter(origin, code, reason, null) };
}

export const originOf = (deps: BatchDeps, uidValidity: string, uid: number, size: number) => ({
  mailbox: deps.mailbox,
  uidValidity,
  uid,
  size,
});

/** A batch being parsed while its raw messages are stored; both settle as data. */
export interface PreparedBatch {
  /** The record or dead letter of each message, or the failure (a fault of the world). */
  results: Promise<{ ok: Ingested[] } | { err: unknown }>;
  /** Settles once the raw messages are in the blob store; null, or the failure. */
  stored: Promise<{ err: unknown } | null>;
}

/**
 * Turns each message of a batch into its record or dead letter, while its raw bytes go
 * to the blob store in one INSERT. The records
 * reference those blobs: produce them only after `stored` settled without failure.
 */
export function prepareSmall(
  batch: readonly FetchedMessage[],
  uidValidity: string,
  deps: BatchDeps,
): PreparedBatch {
  const refs = batch.map((f) => ({ sha256: sha256Of(f.source), size: f.source.length }));
  // Settled as data, so a failure is never left unhandled while the batch waits.
  const stored = deps.blobs
    .putMany(
      batch.map((f, i) => ({
        content: f.source,
        contentType: 'message/rfc822',
        sha256: refs[i]!.sha256,
      })),
    )
    .then(
      () => null,
      (err: unknown) => ({ err }),
    );
  const results = parseSmall(batch, refs, uidValidity, deps).then(
    (ok) => ({ ok }),
    async (err: unknown) => {
      await stored; // no INSERT left running behind a failed batch
      return { err };
    },
  );
  return { results, stored };
}

async function parseSmall(
  batch: readonly FetchedMessage[],
  refs: BlobRef[],
  uidValidity: string,
  deps: BatchDeps,
): Promise<Ingested[]> {
  // Single-part text mail synchronously; the rest through the full parser.
  const results: (Ingested | null)[] = batch.map((f, i) => {
    const o = originOf(deps, uidValidity, f.uid, f.size);
    return guardedSync(o, () => ingestSimple(f.source, refs[i]!, o, deps.ingest));
  });
  const rest = [...results.keys()].filter((i) => results[i] === null);
  await mapLimit(rest, PARSE_CONCURRENCY, async (i) => {
    const f = batch[i]!;
    const o = originOf(deps, uidValidity, f.uid, f.size);
    results[i] = await guarded(o, () => ingestBuffer(f.source, refs[i]!, o, deps.ingest));
  });
  return results as Ingested[];
}

/**
 * A message above STREAM_THRESHOLD, streamed in chunks into the blob store and the
 * parser at once. Null when it was expunged before we got to it.
 */
export async function ingestLarge(
  client: ImapFlow,
  uid: number,
  uidValidity: string,
  deps: BatchDeps,
): Promise<Ingested | null> {
  const download = async (maxBytes?: number) => {
    const d = await client.download(String(uid), undefined, {
      uid: true,
      chunkSize: DOWNLOAD_CHUNK,
      ...(maxBytes ? { maxBytes } : {}),
    });
    if (!d.content) return null;
    // RFC822.SIZE comes with the first chunk; a server that left it out is asked again.
    const size =
      d.meta.expectedSize ??
      ((await client.fetchOne(String(uid), { size: true }, { uid: true })) || undefined)?.size ??
      0;
    return { content: d.content, size };
  };
  const first = await download();
  if (!first) {
    deps.logger.info({ uid }, 'message expunged before it was fetched');
    return null;
  }
  const o = originOf(deps, uidValidity, uid, first.size);
  return guarded(o, async () => {
    if (first.size <= deps.maxMessageBytes) return ingestStream(first.content, o, deps.ingest);
    deps.metrics.messages.inc({ mailbox: deps.mailbox, outcome: 'oversized' });
    // Whole raw message first (streamed), so nothing is lost whatever happens next.
    const raw = await deps.blobs.putStream(paced(first.content), 'message/rfc822');
    if (deps.oversized === 'dlq') {
      const reason = `message is ${first.size} bytes, above IMAP_MAX_MESSAGE_BYTES=${deps.maxMessageBytes}`;
      return {
        kind: 'dead_letter',
        code: 'TOO_LARGE',
        message: deadLetter(o, 'TOO_LARGE', reason, raw.sha256),
      };
    }
    const cut = await download(deps.maxMessageBytes);
    if (!cut) throw Object.assign(new Error(`message ${uid} vanished`), { code: 'GONE' });
    return ingestStream(cut.content, o, deps.ingest, {
      raw,
      oversized: { limit: deps.maxMessageBytes, size: first.size },
    });
  });
}

/**
 * Produces the records of a batch: bounced recipients marked, records and dead
 * letters acked by Kafka (acks=all). Only then may the caller move the checkpoint.
 */
export async function commitResults(results: readonly Ingested[], deps: BatchDeps): Promise<void> {
  const emails = results.filter((r) => r.kind === 'email');
  const dead = results.filter((r) => r.kind === 'dead_letter');
  const bounced = await markUndeliverable(
    deps.pool,
    emails.map((e) => ({ addresses: e.bouncedRecipients, reason: e.bounceReason })),
  );
  await Promise.all([
    sendBounded(
      deps.producer,
      TOPICS.raw,
      emails.map((e) => e.message),
    ),
    sendBounded(
      deps.producer,
      DLQ_TOPICS.raw,
      dead.map((d) => d.message),
    ),
  ]);
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

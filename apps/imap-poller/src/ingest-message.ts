import { PassThrough, type Readable } from 'node:stream';
import type { AttachmentRef } from '@mailroom/events';
import type { Message } from '@mailroom/kafka';
import {
  detectAutomated,
  parseMail,
  parseSimple,
  type AttachmentSink,
  type DetectAutomatedOptions,
} from '@mailroom/mail';
import { sha256Of, type BlobRef, type BlobStore } from './blob-store.js';
import { buildRecord, deadLetter, type MessageOrigin } from './build-record.js';
import { paced } from './stream-pacer.js';

export interface IngestDeps {
  blobs: BlobStore;
  automated: DetectAutomatedOptions;
  /** Parse timeout per message (a pathological MIME tree must not stall the mailbox). */
  parseTimeoutMs?: number;
}

/** What became of one message: a record for tickets.raw or one for tickets.raw.dlq. */
export type Ingested =
  | { kind: 'email'; message: Message; bouncedRecipients: string[]; bounceReason: string | null }
  | { kind: 'dead_letter'; message: Message; code: string };

// Delivery reports are tiny and hold the failed recipients (Final-Recipient): read
// them into the text the bounce detector sees, besides storing them as blobs.
const REPORT_PART = /^(message\/(global-)?delivery-status|text\/rfc822-headers)$/;
const REPORT_MAX_CHARS = 64 * 1024;

function attachmentSink(blobs: BlobStore, reports: string[]): AttachmentSink {
  return async (info, content) => {
    if (!REPORT_PART.test(info.contentType)) {
      return (await blobs.putStream(content, info.contentType)).sha256;
    }
    const chunks: Buffer[] = [];
    for await (const c of content) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    if (info.contentType.includes('delivery-status'))
      reports.push(buf.toString('utf8', 0, REPORT_MAX_CHARS));
    return (await blobs.put(buf, info.contentType)).sha256;
  };
}

type Parsed = Awaited<ReturnType<typeof parseMail>>;
interface Analysed {
  parsed: Parsed;
  reports: string[];
}

async function analyse(source: Buffer | Readable, deps: IngestDeps): Promise<Analysed> {
  const reports: string[] = [];
  const parsed = await parseMail(source, {
    onAttachment: attachmentSink(deps.blobs, reports),
    // The size cap is applied before parsing (oversized mail is cut); never again here.
    maxBytes: Number.MAX_SAFE_INTEGER,
    ...(deps.parseTimeoutMs ? { timeoutMs: deps.parseTimeoutMs } : {}),
  });
  return { parsed, reports };
}

function finish(
  { parsed, reports }: Analysed,
  raw: BlobRef,
  origin: MessageOrigin,
  deps: IngestDeps,
  oversized?: { limit: number; size: number },
): Ingested {
  if (!parsed.ok) {
    // A blob store outage is a fault of the world: the caller retries the batch.
    if (parsed.error.retriable) throw parsed.error;
    const { code, reason } = parsed.error;
    return { kind: 'dead_letter', code, message: deadLetter(origin, code, reason, raw.sha256) };
  }
  const mail = parsed.mail;
  const verdict = detectAutomated(
    reports.length ? { ...mail, text: `${mail.text}\n${reports.join('\n')}` } : mail,
    deps.automated,
  );
  const attachments: AttachmentRef[] = mail.attachments.map((a, i) => ({
    ...(a.ref ? { blobId: a.ref } : {}),
    filename: (a.filename?.trim() || `part-${a.partId ?? i + 1}`).slice(0, 255),
    contentType: a.contentType.slice(0, 255),
    size: a.size,
  }));
  const built = buildRecord({
    mail,
    origin,
    rawBlobId: raw.sha256,
    attachments,
    verdict,
    receivedAt: new Date().toISOString(),
    ...(oversized ? { oversized } : {}),
  });
  if (!built.ok) {
    return {
      kind: 'dead_letter',
      code: built.code,
      message: deadLetter(origin, built.code, built.reason, raw.sha256),
    };
  }
  const bounce = verdict.kind === 'bounce';
  return {
    kind: 'email',
    message: built.message,
    bouncedRecipients: bounce ? (verdict.bouncedRecipients ?? []) : [],
    bounceReason: bounce ? verdict.reason : null,
  };
}

/**
 * Parses one message whose raw bytes are already stored as `raw` and builds its
 * record. A bad message becomes a dead letter with the reason; this throws only for
 * faults of the world (blob store down), which the caller retries.
 */
export async function ingestBuffer(
  source: Buffer,
  raw: BlobRef,
  origin: MessageOrigin,
  deps: IngestDeps,
): Promise<Ingested> {
  return finish(await analyse(source, deps), raw, origin, deps);
}

/**
 * The same for single-part text mail, synchronously (no parser stream, no promise):
 * null when the message needs the full parser (ingestBuffer).
 */
export function ingestSimple(
  source: Buffer,
  raw: BlobRef,
  origin: MessageOrigin,
  deps: IngestDeps,
): Ingested | null {
  let parsed: Parsed | null;
  try {
    parsed = parseSimple(source, Number.MAX_SAFE_INTEGER);
  } catch {
    parsed = null; // the full parser gets its turn, as parseMail does
  }
  return parsed && finish({ parsed, reports: [] }, raw, origin, deps);
}

/**
 * Streams a large message into the blob store and the parser at once: one pass over
 * the IMAP stream, never a whole copy in memory (a pipe pauses the source while
 * either side is busy). For oversized mail the caller has stored the whole message
 * already (`stored`) and `source` is its first `limit` bytes.
 */
export async function ingestStream(
  input: Readable,
  origin: MessageOrigin,
  deps: IngestDeps,
  stored?: { raw: BlobRef; oversized: { limit: number; size: number } },
): Promise<Ingested> {
  const source = paced(input);
  const toParser = new PassThrough({ highWaterMark: 256 * 1024 });
  source.once('error', (err) => toParser.destroy(err));
  if (stored) {
    source.pipe(toParser);
    const analysed = await analyse(toParser, deps).finally(() => toParser.resume());
    return finish(analysed, stored.raw, origin, deps, stored.oversized);
  }
  const toBlob = new PassThrough({ highWaterMark: 256 * 1024 });
  source.once('error', (err) => toBlob.destroy(err));
  source.pipe(toBlob);
  source.pipe(toParser);
  const [raw, analysed] = await Promise.all([
    deps.blobs.putStream(toBlob, 'message/rfc822').catch((err: unknown) => {
      toParser.destroy(err as Error); // else the parser waits for bytes that never come
      throw err;
    }),
    // A parser that gave up early must not stall the blob side: drain what is left.
    analyse(toParser, deps).finally(() => toParser.resume()),
  ]);
  return finish(analysed, raw, origin, deps);
}

const WARM_UP = Buffer.from(
  [
    'From: Warm-up <warm-up@example.test>',
    'To: support@example.test',
    'Subject: warm-up',
    'Message-ID: <warm-up@example.test>',
    'Date: Thu, 01 Jan 2026 00:00:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello.',
    '',
  ].join('\r\n'),
);

/**
 * One built-in mail through parse and record building, before the first real one:
 * loads the parser and compiles the record schema (a few hundred ms), which would
 * otherwise land on the first mail. Nothing is stored or produced.
 */
export async function warmUp(deps: IngestDeps): Promise<void> {
  const raw = { sha256: sha256Of(WARM_UP), size: WARM_UP.length };
  const origin = { mailbox: 'warm-up', uidValidity: '1', uid: 1, size: WARM_UP.length };
  await ingestBuffer(WARM_UP, raw, origin, deps);
}

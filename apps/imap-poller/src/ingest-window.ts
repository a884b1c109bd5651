import type { ImapFlow } from 'imapflow';
import {
  STREAM_THRESHOLD,
  ingestLarge,
  prepareSmall,
  uidSet,
  type BatchDeps,
  type FetchedMessage,
} from './ingest-batch.js';
import { WindowCommitter } from './window-committer.js';
import type { BulkFetcher, FetchedSource } from './bulk-fetch.js';

export interface WindowOptions {
  /** Messages per produce + checkpoint step (fewer while mail trickles in). */
  batchSize: number;
  /** Called, in order, as every UID up to `lastUid` is acked by Kafka. */
  checkpoint: (lastUid: number, doneInWindow: number) => Promise<void>;
  /** Shutdown: stop fetching, finish what is fetched. */
  signal: AbortSignal;
  /** The small messages' FETCH on a connection of our own; unset: imapflow's fetch. */
  bulk?: BulkFetcher | undefined;
}

// Small messages fetched ahead of the parser: bounds memory whatever the window size.
const READ_AHEAD_BYTES = 16 * 1024 * 1024;
// And by count: 16 MiB of small mail is tens of thousands of fetched objects, each then
// outliving the young generation of the heap (copied, promoted, collected again).
const READ_AHEAD_MESSAGES = 500;
const BATCH_BYTES = 8 * 1024 * 1024;
// Parsed batches waiting for their blobs, Kafka and checkpoint: bounds memory too.
const MAX_PENDING_BATCHES = 3;
// Partial fetch cap: a message whose RFC822.SIZE understated its bytes is never cut
// silently; one that reaches the cap is streamed instead.
const FETCH_CAP = STREAM_THRESHOLD * 2;
/**
 * Fewer small messages than this go through imapflow's FETCH on the open connection:
 * mail trickling in is not worth a second login (a few round trips, a TLS handshake).
 */
export const BULK_FETCH_MIN = 32;

/**
 * Ingests one window of UIDs (ascending) and returns those that reached Kafka. Large
 * messages are streamed one by one first; the small ones come in one FETCH command,
 * read ahead while earlier batches are parsed, stored and produced. Many servers pay
 * for a command with a scan of the whole folder (GreenMail does), so one FETCH per
 * window instead of one per batch is what makes a large mailbox fast.
 */
export async function ingestWindow(
  client: ImapFlow,
  uids: readonly number[],
  uidValidity: string,
  deps: BatchDeps,
  o: WindowOptions,
): Promise<number[]> {
  const committer = new WindowCommitter(uids, deps, o.checkpoint);
  const streamOne = async (uid: number) => {
    const end = committer.timer();
    const r = await ingestLarge(client, uid, uidValidity, deps);
    committer.enqueue(r ? [r] : [], [uid], null, end);
    await committer.flush();
  };

  const large = new Set(
    (await client.search({ uid: uidSet(uids), larger: STREAM_THRESHOLD }, { uid: true })) || [],
  );
  for (const uid of uids) {
    if (o.signal.aborted) return committer.completed();
    if (large.has(uid)) await streamOne(uid);
  }
  const small = uids.filter((u) => !large.has(u));
  const late = await streamSmall(client, small, uidValidity, deps, o, committer);
  for (const uid of late) {
    if (o.signal.aborted) break;
    await streamOne(uid);
  }
  return committer.completed();
}

/**
 * One FETCH for the small messages of a window. A reader pulls responses into a
 * bounded queue (imapflow holds the socket while we do not pull); the processor takes
 * what is there, up to a batch, and parses it while earlier batches are stored,
 * produced and checkpointed. Returns the UIDs that turned out large after all.
 */
async function streamSmall(
  client: ImapFlow,
  uids: readonly number[],
  uidValidity: string,
  deps: BatchDeps,
  o: WindowOptions,
  committer: WindowCommitter,
): Promise<number[]> {
  if (uids.length === 0) return [];
  const queue: FetchedMessage[] = [];
  const late: number[] = [];
  const returned = new Set<number>();
  const state = {
    queued: 0,
    finished: false,
    readerDone: false,
    readerError: null as Error | null,
  };
  let wakeProcessor = (): void => undefined;
  let wakeReader = (): void => undefined;
  const stopped = () => committer.failed() || state.readerError !== null || o.signal.aborted;
  const timing = { started: performance.now(), fetched: 0, batches: 0 };
  const readAhead = Math.max(READ_AHEAD_MESSAGES, 2 * o.batchSize);

  const reader = (async () => {
    try {
      for await (const f of fetchSources(client, uids, o.bulk, deps)) {
        returned.add(f.uid);
        const size = f.source?.length ?? 0;
        if (f.source && size <= STREAM_THRESHOLD) {
          queue.push({ uid: f.uid, size, source: f.source });
          state.queued += f.source.length;
          wakeProcessor();
        } else if (f.source || f.late) {
          late.push(f.uid);
        }
        while (!stopped() && (state.queued >= READ_AHEAD_BYTES || queue.length >= readAhead)) {
          await new Promise<void>((resolve) => (wakeReader = resolve));
        }
        if (stopped()) return;
      }
      state.finished = true;
      timing.fetched = performance.now();
    } catch (err) {
      state.readerError = err instanceof Error ? err : new Error(String(err));
    } finally {
      state.readerDone = true;
      wakeProcessor();
    }
  })();

  try {
    while (!committer.failed()) {
      if (queue.length === 0 || committer.pending >= MAX_PENDING_BATCHES) {
        if (queue.length === 0 && state.readerDone) break;
        await new Promise<void>((resolve) => {
          wakeProcessor = resolve;
          committer.onSettled = resolve;
        });
        continue;
      }
      const batch: FetchedMessage[] = [];
      let bytes = 0;
      while (queue.length && batch.length < o.batchSize && bytes < BATCH_BYTES) {
        const f = queue.shift()!;
        batch.push(f);
        bytes += f.source.length;
      }
      state.queued -= bytes;
      wakeReader();
      const end = committer.timer();
      timing.batches++;
      // Parsed now, while the batches before it are stored, produced and checkpointed.
      const prepared = prepareSmall(batch, uidValidity, deps);
      committer.enqueue(
        prepared.results,
        batch.map((f) => f.uid),
        prepared.stored,
        end,
      );
    }
    await committer.flush();
    // Where a window's time goes: the FETCH, and the work left once it ended.
    deps.logger.debug(
      {
        messages: uids.length,
        batches: timing.batches,
        fetchMs: Math.round(timing.fetched - timing.started),
        afterFetchMs: Math.round(performance.now() - timing.fetched),
      },
      'window ingested',
    );
  } catch (err) {
    await committer.abandon(); // what is queued behind a failure is not produced
    throw err;
  } finally {
    wakeReader();
    await reader;
  }
  if (state.readerError !== null) throw state.readerError;
  // Listed but not returned: expunged meanwhile, nothing to ingest.
  if (state.finished) {
    const gone = uids.filter((u) => !returned.has(u));
    if (gone.length) {
      deps.logger.info({ uids: gone.length }, 'messages expunged before they were fetched');
      committer.enqueue([], gone, null);
      await committer.flush();
    }
  }
  return late;
}

/**
 * The small messages' FETCH: on the bulk connection when there is one, the window has
 * at least BULK_FETCH_MIN of them and the connection opens;
 * a server that refuses a second connection (a per-user limit, say) gets imapflow's
 * FETCH instead, never a stuck mailbox. A UIDVALIDITY other than the checkpoint's
 * fails the window, as it must (the session then re-reads it and applies the rules).
 */
export async function* fetchSources(
  client: ImapFlow,
  uids: readonly number[],
  bulk: BulkFetcher | undefined,
  deps: Pick<BatchDeps, 'mailbox' | 'metrics' | 'logger'>,
): AsyncGenerator<FetchedSource> {
  if (bulk && uids.length < BULK_FETCH_MIN) bulk = undefined;
  if (bulk) {
    try {
      await bulk.ready(FETCH_CAP);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'UIDVALIDITY_CHANGED') throw err;
      deps.metrics.errors.inc({ mailbox: deps.mailbox, code: 'BULK_FETCH_UNAVAILABLE' });
      deps.logger.warn({ err }, 'bulk fetch connection failed: imapflow fetches this window');
      bulk = undefined;
    }
  }
  yield* bulk ? bulk.fetch(uids, FETCH_CAP) : imapflowFetch(client, uids);
}

/** imapflow's FETCH of the same data (IMAP_FETCH_READER=imapflow). */
async function* imapflowFetch(
  client: ImapFlow,
  uids: readonly number[],
): AsyncGenerator<FetchedSource> {
  // UID and source only: a message below the cap came whole, so its size is its
  // length (RFC822.SIZE is defined as that length); one attribute less to read each.
  const query = { uid: true, source: { start: 0, maxLength: FETCH_CAP } };
  for await (const f of client.fetch(uidSet(uids), query, { uid: true })) {
    yield { uid: f.uid, source: f.source ?? null };
  }
}

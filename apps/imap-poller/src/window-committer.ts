import { commitResults, type BatchDeps } from './ingest-batch.js';
import type { Ingested } from './ingest-message.js';

/** The checkpoint of a window: the highest UID with every UID before it done. */
export class WindowProgress {
  private next = 0;
  private readonly done = new Set<number>();
  constructor(private readonly uids: readonly number[]) {}

  /** Marks UIDs done; returns the new checkpoint when it moved, else null. */
  mark(uids: Iterable<number>): number | null {
    for (const u of uids) this.done.add(u);
    const before = this.next;
    while (this.next < this.uids.length && this.done.has(this.uids[this.next]!)) {
      this.done.delete(this.uids[this.next]!);
      this.next++;
    }
    return this.next > before ? this.uids[this.next - 1]! : null;
  }

  /** How many UIDs of the window are below the checkpoint. */
  get count(): number {
    return this.next;
  }

  /** The UIDs below the checkpoint: what may be flagged or moved. */
  completed(): number[] {
    return this.uids.slice(0, this.next);
  }
}

type SaveCheckpoint = (lastUid: number, doneInWindow: number) => Promise<void>;
type Stored = Promise<{ err: unknown } | null> | null;
type Results = Ingested[] | Promise<{ ok: Ingested[] } | { err: unknown }>;

/**
 * Produces the batches of a window strictly in order, each once its raw messages
 * are stored, and moves the checkpoint behind them: a save in flight while the next
 * batch is produced, later checkpoints coalesced into one save. The first failure
 * stops everything after it; the window is then retried from the checkpoint.
 */
export class WindowCommitter {
  private readonly progress: WindowProgress;
  private chain: Promise<void> = Promise.resolve();
  private failure: { err: unknown } | null = null;
  private abandoned = false;
  private latest: { lastUid: number; count: number } | null = null;
  private saving: Promise<void> | null = null;
  /** Batches enqueued and not yet produced (or skipped). */
  pending = 0;
  /** Called whenever a batch leaves the queue. */
  onSettled: () => void = () => undefined;

  constructor(
    uids: readonly number[],
    private readonly deps: BatchDeps,
    private readonly save: SaveCheckpoint,
  ) {
    this.progress = new WindowProgress(uids);
  }

  timer(): () => void {
    return this.deps.metrics.batchSeconds.startTimer({ mailbox: this.deps.mailbox });
  }

  failed(): boolean {
    return this.failure !== null || this.abandoned;
  }

  /**
   * Queues a batch: produced after the batches before it, once `stored` and its
   * results (still being parsed, maybe) settled.
   */
  enqueue(results: Results, done: number[], stored: Stored, end?: () => void): void {
    this.pending++;
    this.chain = this.chain
      .then(async () => {
        if (this.failed()) {
          await Promise.all([stored, Array.isArray(results) ? null : results]);
          return; // skipped, but nothing of it left running
        }
        try {
          const s = stored ? await stored : null;
          if (s) throw s.err;
          const r = Array.isArray(results) ? { ok: results } : await results;
          if ('err' in r) throw r.err;
          await commitResults(r.ok, this.deps);
          const lastUid = this.progress.mark(done);
          if (lastUid !== null) this.checkpoint(lastUid);
          end?.();
        } catch (err) {
          this.failure ??= { err };
        }
      })
      .finally(() => {
        this.pending--;
        this.onSettled();
      });
  }

  private checkpoint(lastUid: number): void {
    this.latest = { lastUid, count: this.progress.count };
    this.saving ??= (async () => {
      try {
        while (this.latest) {
          const { lastUid: uid, count } = this.latest;
          this.latest = null;
          await this.save(uid, count);
        }
      } catch (err) {
        this.failure ??= { err };
      } finally {
        this.saving = null;
      }
    })();
  }

  /** Waits for every queued batch and checkpoint; throws the first failure. */
  async flush(): Promise<void> {
    await this.settle();
    if (this.failure) throw this.failure.err;
  }

  /** After a failure elsewhere: what is queued is skipped, nothing more is produced. */
  async abandon(): Promise<void> {
    this.abandoned = true;
    await this.settle();
  }

  private async settle(): Promise<void> {
    await this.chain;
    while (this.saving) await this.saving;
  }

  /** UIDs acked and checkpointed (after flush): what may be flagged or moved. */
  completed(): number[] {
    return this.progress.completed();
  }
}

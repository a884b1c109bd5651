import type { Worker } from 'node:worker_threads';
import type { DetectAutomatedOptions } from '@mailroom/mail';
import type { Logger } from '@mailroom/observability';
import type { Ingested } from './ingest-message.js';
import { startThread } from './threads.js';

/** A batch of small messages for a parse thread: their bytes back to back. */
export interface ParseRequest {
  id: number;
  data: Uint8Array;
  /** End offset of each message in `data`. */
  ends: number[];
  uids: number[];
  sizes: number[];
  sha256: string[];
  mailbox: string;
  uidValidity: string;
}

/**
 * Per message: its record or dead letter, null when it needs the full parser, 'again'
 * when parsing threw (the caller runs it again in its own thread and judges the error).
 */
export interface ParseReply {
  id: number;
  results: (Ingested | null | 'again')[];
}

export type ParseBatch = Omit<ParseRequest, 'id'>;

/**
 * Threads that parse single-part mail and build its record (about half of a small
 * message's CPU), so the thread that reads IMAP, stores blobs and produces to Kafka is
 * not the one that parses: both run at once, each on a core of its own when there is
 * one. `parse` rejects when a thread failed; the caller then parses in its own thread.
 */
export interface ParsePool {
  readonly size: number;
  parse(batch: ParseBatch): Promise<ParseReply['results']>;
  close(): Promise<void>;
}

interface Slot {
  worker: Worker;
  busy: number;
  broken: Error | null;
  pending: Map<number, { resolve: (r: ParseReply['results']) => void; reject: (e: Error) => void }>;
}

/** Starts `size` parse threads and waits until each has parsed its warm-up mail. */
export async function startParsePool(
  size: number,
  automated: DetectAutomatedOptions,
  logger: Logger,
): Promise<ParsePool> {
  let nextId = 0;
  const slots: Slot[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < size; i++) {
    const worker = startThread('parse-worker', { workerData: { automated } });
    const slot: Slot = { worker, busy: 0, broken: null, pending: new Map() };
    const fail = (err: Error) => {
      slot.broken ??= err;
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    ready.push(
      new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`parse thread exited (${code})`)));
      }),
    );
    worker.on('message', (m: ParseReply | 'ready') => {
      if (m === 'ready') return;
      const p = slot.pending.get(m.id);
      slot.pending.delete(m.id);
      slot.busy--;
      p?.resolve(m.results);
    });
    worker.on('error', (err) => {
      logger.warn({ err }, 'parse thread failed; its batches are parsed in the main thread');
      fail(err);
    });
    worker.on('exit', (code) => fail(new Error(`parse thread exited (${code})`)));
    // Idle threads must not keep a stopping process alive.
    worker.unref();
    slots.push(slot);
  }
  await Promise.all(ready);

  return {
    size,
    parse: (batch) => {
      const live = slots.filter((s) => !s.broken);
      if (live.length === 0) return Promise.reject(new Error('no parse thread left'));
      const slot = live.reduce((a, b) => (b.busy < a.busy ? b : a));
      const id = nextId++;
      slot.busy++;
      return new Promise((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.postMessage({ id, ...batch } satisfies ParseRequest);
      });
    },
    close: async () => {
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

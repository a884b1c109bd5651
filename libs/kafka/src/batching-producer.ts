import type { Message } from 'kafkajs';
import type { MailroomProducer } from './producer.js';

export interface BatchingProducerOptions {
  /** Records per produce request at most. */
  maxBatch?: number;
  /**
   * Bytes (keys + values) per produce request at most; kept under the broker's
   * message.max.bytes (1 MiB by default) so one big batch cannot fail every caller.
   * A single record above it is sent alone.
   */
  maxBatchBytes?: number;
  /** How long the first record of an idle producer waits for company (0: next tick). */
  lingerMs?: number;
}

export interface BatchingProducer {
  /** Resolves once the record's batch is acknowledged (acks=all), rejects with its error. */
  send(topic: string, message: Message): Promise<void>;
  /** Resolves when every record handed in so far has been sent (or failed). */
  flush(): Promise<void>;
  /** Refuses new records, then flushes. */
  close(): Promise<void>;
}

/** Thrown to callers of send() after close(): a stable code, not retriable here. */
export class ProducerClosedError extends Error {
  readonly code = 'PRODUCER_CLOSED';
  readonly retriable = false;
  constructor() {
    super('the batching producer is closed');
    this.name = 'ProducerClosedError';
  }
}

interface Pending {
  topic: string;
  message: Message;
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const sizeOf = (m: Message): number => byteLength(m.key) + byteLength(m.value);
function byteLength(v: Message['key'] | Message['value']): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/**
 * Coalesces concurrent single-record sends into one produce request, with one request
 * in flight at a time (the idempotent producer allows no more). While a request is in
 * flight, new records queue up and leave together as the next request: under load the
 * batch grows by itself, when idle a record waits at most `lingerMs`.
 *
 * A produce request is not atomic across partitions: when it fails, every caller of the
 * batch is rejected, although records of other partitions may have been written. Callers
 * retry, and consumers dedupe (at-least-once, exactly-once effects).
 */
export function createBatchingProducer(
  producer: MailroomProducer,
  options: BatchingProducerOptions = {},
): BatchingProducer {
  const maxBatch = Math.max(1, options.maxBatch ?? 500);
  const maxBatchBytes = Math.max(1, options.maxBatchBytes ?? 900_000);
  const lingerMs = Math.max(0, options.lingerMs ?? 0);
  const queue: Pending[] = [];
  let inFlight: Promise<void> | undefined;
  let timer: { cancel(): void } | undefined;
  let closed = false;
  const idleWaiters: (() => void)[] = [];

  const takeBatch = (): Pending[] => {
    let bytes = 0;
    let count = 0;
    while (count < queue.length && count < maxBatch) {
      const next = queue[count]!;
      if (count > 0 && bytes + next.bytes > maxBatchBytes) break;
      bytes += next.bytes;
      count += 1;
    }
    return queue.splice(0, count);
  };

  /** Sends one batch; resolves with its error (undefined: acknowledged), never rejects. */
  const sendBatch = async (batch: Pending[]): Promise<unknown> => {
    // Queue order is kept per topic, so records of one key stay in order.
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic);
      if (list) list.push(p.message);
      else byTopic.set(p.topic, [p.message]);
    }
    try {
      const [only] = byTopic;
      if (byTopic.size === 1 && only) {
        await producer.send(only[0], only[1]);
      } else {
        await producer.sendMany([...byTopic].map(([topic, messages]) => ({ topic, messages })));
      }
      return undefined;
    } catch (err) {
      return err ?? new Error('produce failed');
    }
  };

  const drain = (): void => {
    timer?.cancel();
    timer = undefined;
    if (inFlight || queue.length === 0) return;
    const batch = takeBatch();
    inFlight = sendBatch(batch).then((err) => {
      inFlight = undefined;
      // Records that arrived meanwhile have lingered long enough: they leave now, before
      // this batch's callers are answered, so the broker works on them while the callers
      // go on (an HTTP answer each, for intake).
      if (queue.length > 0) drain();
      if (err === undefined) for (const p of batch) p.resolve();
      else for (const p of batch) p.reject(err);
      if (!inFlight && queue.length === 0) idleWaiters.splice(0).forEach((wake) => wake());
    });
  };

  const schedule = (): void => {
    if (inFlight || timer) return;
    if (lingerMs > 0) {
      const t = setTimeout(drain, lingerMs);
      timer = { cancel: () => clearTimeout(t) };
    } else {
      const i = setImmediate(drain);
      timer = { cancel: () => clearImmediate(i) };
    }
  };

  const flush = (): Promise<void> => {
    if (!inFlight && queue.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      idleWaiters.push(resolve);
      // Nothing to wait for: the lingering records leave now.
      if (timer) drain();
    });
  };

  return {
    send: (topic, message) => {
      if (closed) return Promise.reject(new ProducerClosedError());
      return new Promise<void>((resolve, reject) => {
        queue.push({ topic, message, bytes: sizeOf(message), resolve, reject });
        if (queue.length >= maxBatch && !inFlight) drain();
        else schedule();
      });
    },
    flush,
    close: async () => {
      closed = true;
      await flush();
    },
  };
}

/**
 * Spreads sends over several batching producers ("lanes"), each an idempotent producer
 * with its own single in-flight request: throughput is no longer bound by one broker
 * round trip at a time. A key always takes the same lane, so records of one key keep
 * their order.
 */
export function shardByKey(lanes: BatchingProducer[]): BatchingProducer {
  if (lanes.length === 0) throw new Error('shardByKey needs at least one lane');
  const laneOf = (key: Message['key']): BatchingProducer => {
    if (lanes.length === 1 || key === null || key === undefined) return lanes[0]!;
    const text = typeof key === 'string' ? key : key.toString('latin1');
    let h = 0x811c9dc5; // FNV-1a
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return lanes[(h >>> 0) % lanes.length]!;
  };
  return {
    send: (topic, message) => laneOf(message.key).send(topic, message),
    flush: async () => void (await Promise.all(lanes.map((l) => l.flush()))),
    close: async () => void (await Promise.all(lanes.map((l) => l.close()))),
  };
}

import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registeredMetric } from '@mailroom/observability';
import { classifyError, errorCode } from './errors.js';
import type { MailroomProducer } from './producer.js';

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: string;
}

export type RecordHandler = (record: ConsumedRecord) => Promise<void>;
/** Handles consecutive records of one partition at once (one transaction, one produce). */
export type BatchHandler = (records: ConsumedRecord[]) => Promise<void>;

export interface ConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  handler: RecordHandler;
  /**
   * Optional fast path: chunks of up to `maxChunk` records go to it together. When a
   * chunk fails with anything but a transient fault, its records are handled one by one
   * by `handler`, so a poison record is dead-lettered alone and the rest still pass.
   */
  batchHandler?: BatchHandler;
  maxChunk?: number;
  /** Sends dead letters to `<topic>.dlq`. */
  producer: MailroomProducer;
  logger: Logger;
  registry: Registry;
  fromBeginning?: boolean;
  /** Attempts for errors of unknown kind before the record is dead-lettered. */
  maxAttempts?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Partitions handled in parallel (records of one partition stay in order). */
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  /**
   * A fetch returns once this many bytes are there or `fetchMaxWaitMs` passed: under load,
   * chunks of many records (one transaction, one produce each) instead of a fetch per
   * record or two; idle, one fetch per `fetchMaxWaitMs`. Default KAFKA_FETCH_MIN_BYTES.
   */
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
  /**
   * Handled offsets are committed at most this often (one OffsetCommit for every
   * partition), when the consumer goes idle, and at stop. kafkajs's autoCommit sends one
   * after every partition's batch, which cost Kafka as much CPU as the produce requests.
   * A crash hands at most this much again to the (idempotent) handlers. Default
   * KAFKA_COMMIT_INTERVAL_MS.
   */
  commitIntervalMs?: number;
  /**
   * A consumer that neither fetches, nor joins, nor handles a batch for this long is
   * replaced by a new one in the same group (kafkajs can stall in a rejoin after its
   * group coordinator moved twice). Default: twice the session timeout, at least 60 s.
   */
  stallRestartMs?: number;
}

/** The defaults of ConsumerOptions.fetchMinBytes / fetchMaxWaitMs (see KafkaConfig). */
export const FETCH_DEFAULTS = { minBytes: 16_384, maxWaitMs: 100 } as const;
/** What one fetch brings at most (a partition: kafkajs's 1 MiB). */
export const FETCH_MAX_BYTES = 2 * 1024 * 1024;
/** The default of ConsumerOptions.commitIntervalMs (see KafkaConfig). */
export const COMMIT_INTERVAL_DEFAULT_MS = 1_000;

export interface RunningConsumer {
  /** Resolves when the consumer first joined its group (partitions assigned). */
  joined: Promise<void>;
  /** Stops fetching, lets the records in hand finish, commits what is done. */
  stop(): Promise<void>;
}

export const dlqTopicOf = (topic: string) => `${topic}.dlq`;

function headersOf(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}

function consumerMetrics(registry: Registry) {
  const get = <T>(name: string, make: () => T): T => registeredMetric(registry, name, make);
  return {
    records: get(
      'mailroom_consumer_records_total',
      () =>
        new Counter({
          name: 'mailroom_consumer_records_total',
          help: 'Records handled by a consumer group, by outcome (processed, retried, dead_lettered).',
          labelNames: ['group', 'topic', 'outcome'],
          registers: [registry],
        }),
    ),
    duration: get(
      'mailroom_consumer_processing_seconds',
      () =>
        new Histogram({
          name: 'mailroom_consumer_processing_seconds',
          help: 'Time to handle one record, retries included.',
          labelNames: ['group', 'topic'],
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
          registers: [registry],
        }),
    ),
    restarts: get(
      'mailroom_consumer_restarts_total',
      () =>
        new Counter({
          name: 'mailroom_consumer_restarts_total',
          help: 'Consumers replaced after they stalled (no fetch, join or batch for too long).',
          labelNames: ['group'],
          registers: [registry],
        }),
    ),
    lag: get(
      'mailroom_consumer_lag',
      () =>
        new Gauge({
          name: 'mailroom_consumer_lag',
          help: 'Records behind the partition high watermark, seen at the last batch.',
          labelNames: ['group', 'topic', 'partition'],
          registers: [registry],
        }),
    ),
  };
}

/**
 * The consumer loop of every app: at-least-once, offsets resolved only after the
 * handler's effect, bounded retries with capped exponential backoff and jitter, dead
 * letters with the reason and source coordinates, graceful stop.
 */
export async function runConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const { kafka, groupId, handler, producer, registry } = options;
  const log = options.logger.child({ component: 'consumer', group: groupId });
  const maxAttempts = options.maxAttempts ?? 5;
  const initial = options.backoffInitialMs ?? 200;
  const max = options.backoffMaxMs ?? 10_000;
  const metrics = consumerMetrics(registry);
  let stopping = false;
  let wake: (() => void) | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  const backoff = (attempt: number) =>
    Math.min(max, initial * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);

  const deadLetter = async (record: ConsumedRecord, message: KafkaMessage, err: unknown) => {
    const reason = err instanceof Error ? err.message : String(err);
    await producer.send(dlqTopicOf(record.topic), [
      {
        key: message.key,
        value: message.value,
        headers: {
          ...message.headers,
          'x-error-code': errorCode(err),
          'x-error-message': reason.slice(0, 2000),
          'x-source-topic': record.topic,
          'x-source-partition': String(record.partition),
          'x-source-offset': record.offset,
          'x-consumer-group': groupId,
          'x-failed-at': new Date().toISOString(),
        },
      },
    ]);
    metrics.records.inc({ group: groupId, topic: record.topic, outcome: 'dead_lettered' });
    log.warn(
      {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        code: errorCode(err),
        reason,
      },
      'record dead-lettered',
    );
  };

  /** Returns false when the loop must stop before this record is done. */
  const handle = async (
    record: ConsumedRecord,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
  ) => {
    const end = metrics.duration.startTimer({ group: groupId, topic: record.topic });
    for (let attempt = 1; ; attempt++) {
      try {
        await handler(record);
        metrics.records.inc({ group: groupId, topic: record.topic, outcome: 'processed' });
        end();
        return true;
      } catch (err) {
        const verdict = classifyError(err);
        if (verdict === 'permanent' || (verdict === 'unknown' && attempt >= maxAttempts)) {
          await deadLetter(record, message, err);
          end();
          return true;
        }
        metrics.records.inc({ group: groupId, topic: record.topic, outcome: 'retried' });
        log.warn(
          { err, attempt, verdict, offset: record.offset, partition: record.partition },
          'record failed, retrying',
        );
        if (stopping) return false;
        await sleep(backoff(attempt));
        if (stopping) return false;
        await heartbeat().catch(() => undefined);
      }
    }
  };

  const maxChunk = Math.max(1, options.maxChunk ?? 500);
  const concurrency = options.partitionsConsumedConcurrently ?? 1;
  /** 'done' | 'one-by-one' (not transient: isolate the bad record) | 'stop' (shutting down). */
  const handleChunk = async (records: ConsumedRecord[], heartbeat: () => Promise<void>) => {
    const topic = records[0]!.topic;
    const end = metrics.duration.startTimer({ group: groupId, topic });
    for (let attempt = 1; ; attempt++) {
      try {
        await options.batchHandler!(records);
        const byTopic = new Map<string, number>();
        for (const r of records) byTopic.set(r.topic, (byTopic.get(r.topic) ?? 0) + 1);
        for (const [t, n] of byTopic)
          metrics.records.inc({ group: groupId, topic: t, outcome: 'processed' }, n);
        end();
        return 'done' as const;
      } catch (err) {
        if (classifyError(err) !== 'transient') {
          log.debug(
            { err, records: records.length },
            'chunk failed, handling its records one by one',
          );
          return 'one-by-one' as const;
        }
        log.warn({ err, attempt, records: records.length }, 'chunk failed transiently, retrying');
        if (stopping) return 'stop' as const;
        await sleep(backoff(attempt));
        if (stopping) return 'stop' as const;
        await heartbeat().catch(() => undefined);
      }
    }
  };

  // Chunks that reach eachBatch together — the partitions (of every subscribed topic) of
  // one fetch, handled concurrently (partitionsConsumedConcurrently) — are joined into
  // one batchHandler call of at most maxChunk records: one transaction and one produce
  // for all of them instead of one per partition. Records of a partition keep their
  // order (a partition's next batch comes only after this one is resolved). A joined
  // call that fails with anything but a transient fault hands each chunk back
  // ('alone'), to be handled as if it had come by itself.
  type Joined = 'done' | 'alone' | 'stop';
  interface Part {
    records: ConsumedRecord[];
    heartbeat: () => Promise<void>;
    settle: (outcome: Joined) => void;
  }
  let gathering: Part[] | undefined;
  const flush = async () => {
    const parts = gathering!;
    gathering = undefined;
    const groups: Part[][] = [];
    let size = Infinity;
    for (const part of parts) {
      if (size + part.records.length > maxChunk) {
        groups.push([]);
        size = 0;
      }
      groups.at(-1)!.push(part);
      size += part.records.length;
    }
    // The groups run side by side, as their partitions would have without the join.
    await Promise.all(
      groups.map(async (group) => {
        if (group.length === 1) return group[0]!.settle('alone');
        const outcome = await handleChunk(
          group.flatMap((p) => p.records),
          () => group[0]!.heartbeat(),
        );
        for (const part of group) part.settle(outcome === 'one-by-one' ? 'alone' : outcome);
      }),
    );
  };
  const join = (records: ConsumedRecord[], heartbeat: () => Promise<void>) =>
    new Promise<Joined>((settle) => {
      if (!gathering) {
        gathering = [];
        // kafkajs starts the concurrent batches of a fetch without I/O in between: by
        // the next turn of the event loop every one of them is here.
        setImmediate(() => void flush());
      }
      gathering.push({ records, heartbeat, settle });
    });

  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const stallMs = options.stallRestartMs ?? Math.max(60_000, 2 * sessionTimeout);
  // What the watchdog watches: the last fetch, join or batch end, and batches in hand (a
  // handler riding out an outage is busy, not stalled).
  let lastActivity = Date.now();
  let inBatch = 0;
  let resolveJoined: () => void = () => undefined;
  const joined = new Promise<void>((resolve) => (resolveJoined = resolve));

  // Offsets handled and not yet committed (the next offset to read, by partition) of the
  // current generation: a rejoin drops them, since kafkajs then reads again from the
  // committed offsets and the partitions may be another member's now.
  const commitEvery = options.commitIntervalMs ?? COMMIT_INTERVAL_DEFAULT_MS;
  let pending = new Map<string, { topic: string; partition: number; offset: string }>();
  let generation = 0;
  let lastCommit = Date.now();
  let committing = Promise.resolve();
  const handled = (topic: string, partition: number, offset: string) =>
    pending.set(`${topic}:${partition}`, {
      topic,
      partition,
      offset: (BigInt(offset) + 1n).toString(),
    });
  /** Commits what is pending, one commit at a time; a failed one is tried again later. */
  const commitPending = (c: Consumer): Promise<void> => {
    committing = committing.then(async () => {
      lastCommit = Date.now();
      if (pending.size === 0) return;
      const offsets = [...pending.values()];
      const of = generation;
      pending = new Map();
      try {
        await c.commitOffsets(offsets);
      } catch (err) {
        if (of !== generation) return;
        for (const o of offsets) {
          const key = `${o.topic}:${o.partition}`;
          if (!pending.has(key)) pending.set(key, o);
        }
        log.warn({ err }, 'offset commit failed; trying again with the next one');
      }
    });
    return committing;
  };

  const open = async (): Promise<Consumer> => {
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout,
      minBytes: options.fetchMinBytes ?? FETCH_DEFAULTS.minBytes,
      // kafkajs's default of 10 MiB let a lagging consumer decode that much at once.
      maxBytes: FETCH_MAX_BYTES,
      maxWaitTimeInMs: options.fetchMaxWaitMs ?? FETCH_DEFAULTS.maxWaitMs,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    const seen = () => {
      lastActivity = Date.now();
    };
    consumer.on(consumer.events.FETCH_START, seen);
    consumer.on(consumer.events.GROUP_JOIN, () => {
      seen();
      generation += 1;
      pending = new Map();
      resolveJoined();
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: options.topics,
      fromBeginning: options.fromBeginning ?? true,
    });
    await consumer.run({
      // Commits are ours (commitPending): kafkajs would send one after every batch.
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: concurrency,
      eachBatch: async (payload: EachBatchPayload) => {
        inBatch += 1;
        try {
          await eachBatch(payload);
          if (stopping || Date.now() - lastCommit >= commitEvery) await commitPending(consumer);
        } finally {
          inBatch -= 1;
          seen();
        }
      },
    });
    return consumer;
  };

  const eachBatch = async (payload: EachBatchPayload) => {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    // Lag at the start of the batch too: a long batch must not show a stale 0.
    metrics.lag.set(
      { group: groupId, topic: batch.topic, partition: String(batch.partition) },
      Number(batch.offsetLagLow()),
    );
    const toRecord = (message: KafkaMessage): ConsumedRecord => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      key: message.key?.toString() ?? null,
      value: message.value,
      headers: headersOf(message.headers),
      timestamp: message.timestamp,
    });
    const live = () => payload.isRunning() && !payload.isStale() && !stopping;
    // Next fetch position (kafkajs) and next commit (commitPending) move together.
    const resolve = (offset: string) => {
      payload.resolveOffset(offset);
      handled(batch.topic, batch.partition, offset);
    };
    for (let i = 0; i < batch.messages.length && live();) {
      const chunk = batch.messages.slice(i, i + (options.batchHandler ? maxChunk : 1));
      const records = chunk.map(toRecord);
      if (options.batchHandler) {
        let outcome: Joined | 'one-by-one' =
          concurrency > 1 ? await join(records, heartbeat) : 'alone';
        if (outcome === 'alone' && chunk.length > 1)
          outcome = await handleChunk(records, heartbeat);
        if (outcome === 'stop') break;
        if (outcome === 'done') {
          resolve(chunk.at(-1)!.offset);
          await heartbeat();
          i += chunk.length;
          continue;
        }
      }
      let stopped = false;
      for (const [j, message] of chunk.entries()) {
        if (!live() || !(await handle(records[j]!, message, heartbeat))) {
          stopped = true;
          break;
        }
        resolve(message.offset);
        await heartbeat();
      }
      if (stopped) break;
      i += chunk.length;
    }
    const last = batch.messages.at(-1);
    if (last) {
      const lag = Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1);
      metrics.lag.set(
        { group: groupId, topic: batch.topic, partition: String(batch.partition) },
        lag,
      );
    }
  };

  let consumer = await open();
  log.info({ topics: options.topics }, 'consumer running');

  let replacing = false;
  const watchdog = setInterval(
    () => {
      const idleMs = Date.now() - lastActivity;
      if (stopping || replacing || inBatch > 0 || idleMs < stallMs) return;
      replacing = true;
      void (async () => {
        log.warn({ idleMs }, 'consumer stalled (no fetch, join or batch): replacing it');
        metrics.restarts.inc({ group: groupId });
        const stalled = consumer;
        await Promise.race([
          stalled.disconnect().catch(() => undefined),
          new Promise((r) => setTimeout(r, 10_000)),
        ]);
        try {
          if (!stopping) consumer = await open();
          log.info('consumer replaced');
        } catch (err) {
          log.error({ err }, 'replacing the stalled consumer failed; trying again');
        }
        lastActivity = Date.now();
        replacing = false;
      })();
    },
    Math.max(250, Math.floor(stallMs / 4)),
  );
  watchdog.unref();
  // An idle consumer commits what its last batches handled.
  const committer = setInterval(
    () => {
      if (!stopping && pending.size > 0 && Date.now() - lastCommit >= commitEvery)
        void commitPending(consumer);
    },
    Math.max(50, Math.floor(commitEvery / 2)),
  );
  committer.unref();

  return {
    joined,
    stop: async () => {
      stopping = true;
      clearInterval(watchdog);
      clearInterval(committer);
      wake?.();
      // The batches in hand end at their next record (each commits what it handled on
      // the way out); what earlier batches handled is committed here, before leaving.
      const deadline = Date.now() + sessionTimeout;
      while (inBatch > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await commitPending(consumer);
      await consumer.disconnect();
      log.info('consumer stopped');
    },
  };
}

import { Producer, ProduceAcks, type MessageToProduce } from '@platformatic/kafka';
import type { Message } from 'kafkajs';
import type { Logger } from 'pino';
import { keyHash } from './murmur2.js';
import type { MailroomProducer, TopicMessages } from './producer.js';

export interface FastProducerOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /**
   * How long one send keeps trying (through a broker restart or failover, each attempt
   * after a failure on a new producer id) before it fails with a retriable error.
   */
  deliveryTimeoutMs?: number;
  /** Called each time the producer is replaced after a failed send (tests, metrics). */
  onRenew?: (reason: string) => void;
}

/** A send that did not succeed within deliveryTimeoutMs; the same records may be sent again. */
export class DeliveryTimeoutError extends Error {
  readonly code = 'KAFKA_DELIVERY_TIMEOUT';
  readonly retriable = true;
  constructor(ms: number, cause: unknown) {
    super(`Kafka did not acknowledge the records within ${ms} ms`, { cause });
    this.name = 'DeliveryTimeoutError';
  }
}

type KafkaRecord = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

// Errors that no retry can cure: the records, the topic or the permissions are wrong.
const PERMANENT_API_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TIMESTAMP',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_REQUIRED_ACKS',
  'POLICY_VIOLATION',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
]);
const PERMANENT_CODES = new Set([
  'PLT_KFK_USER',
  'PLT_KFK_AUTHENTICATION',
  'PLT_KFK_UNSUPPORTED',
  'PLT_KFK_UNSUPPORTED_API',
  'PLT_KFK_UNSUPPORTED_COMPRESSION',
  'PLT_KFK_UNSUPPORTED_FORMAT',
]);

interface ErrorNode {
  apiId?: unknown;
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

/** The leaves of the library's error tree (retries nest errors in MultipleErrors). */
function leaves(err: unknown, out: ErrorNode[] = [], depth = 0): ErrorNode[] {
  if (typeof err !== 'object' || err === null || depth > 6) return out;
  const node = err as ErrorNode;
  if (Array.isArray(node.errors) && node.errors.length > 0) {
    for (const e of node.errors) leaves(e, out, depth + 1);
  } else {
    out.push(node);
  }
  return out;
}

const isPermanent = (err: unknown) =>
  leaves(err).some(
    (e) =>
      (typeof e.apiId === 'string' && PERMANENT_API_ERRORS.has(e.apiId)) ||
      (typeof e.code === 'string' && PERMANENT_CODES.has(e.code)),
  );

/** A short reason for logs: the distinct broker error ids or messages of the tree. */
const reasonOf = (err: unknown) =>
  [
    ...new Set(
      leaves(err).map((e) =>
        typeof e.apiId === 'string' ? e.apiId : typeof e.message === 'string' ? e.message : '?',
      ),
    ),
  ]
    .slice(0, 4)
    .join('; ');

// Header names, and the values of headers that repeat (type, version, content type),
// are encoded once and shared by every record (the library only reads them).
const REPEATED_HEADERS = new Set(['event-type', 'event-version', 'content-type']);
const encodedStrings = new Map<string, Buffer>();
function encodedOnce(s: string): Buffer {
  let b = encodedStrings.get(s);
  if (!b) {
    b = Buffer.from(s);
    if (encodedStrings.size < 1024) encodedStrings.set(s, b);
  }
  return b;
}
const bytes = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

function toRecord(topic: string, m: Message): KafkaRecord {
  const headers = new Map<Buffer, Buffer>();
  if (m.headers) {
    for (const name in m.headers) {
      const raw = m.headers[name];
      const value = Array.isArray(raw) ? raw[0] : raw;
      if (value === undefined) continue;
      headers.set(
        encodedOnce(name),
        typeof value === 'string' && REPEATED_HEADERS.has(name) ? encodedOnce(value) : bytes(value),
      );
    }
  }
  const record: KafkaRecord = { topic, headers };
  if (m.key !== null && m.key !== undefined) record.key = bytes(m.key);
  // null stays null: a tombstone
  record.value = (m.value === null || m.value === undefined ? null : bytes(m.value)) as Buffer;
  if (m.partition !== undefined) record.partition = m.partition;
  return record;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The same contract as createProducer (idempotent, acks=all, murmur2 partitioning, so a
 * key lands on the partition any client picks) on @platformatic/kafka, whose record
 * encoding costs about half of kafkajs's per record. Used on the intake hot path; the
 * consumers stay on kafkajs (libs/kafka keeps the client swappable).
 *
 * Recovery: the library numbers each partition's batches (the idempotent sequence) and
 * advances the number only on success. After a failed send the records' fate is unknown
 * (written but unacknowledged, partly written, not written), and the next batch with the
 * same number would be refused forever (OUT_OF_ORDER_SEQUENCE_NUMBER), or, with the same
 * record count, taken by the broker for a duplicate and dropped. So after any failure the
 * producer is replaced (a new producer id, numbers from 0) and the same records are sent
 * again until deliveryTimeoutMs: a record may be written twice, never lost, and consumers
 * dedupe by the record's id. Sends run one at a time (one batch per sequence number).
 */
export async function createFastProducer(options: FastProducerOptions): Promise<MailroomProducer> {
  const log = options.logger.child({ component: 'kafka-producer' });
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 60_000;
  let roundRobin = 0;
  const create = () =>
    new Producer({
      clientId: options.clientId,
      bootstrapBrokers: options.brokers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      // Java's (and kafkajs DefaultPartitioner's) murmur2 & 0x7fffffff; no key: round robin.
      partitioner: (_message, key) => (key ? keyHash(key) : roundRobin++ & 0x7fffffff),
      // Retries of the very same request (same producer id and sequence: a duplicate is
      // recognized by the broker); longer outages are ridden out by renew() below.
      retries: 5,
      retryDelay: 200,
    });

  let producer = create();
  // Connect and register the producer id now, not on the first request.
  await producer.initIdempotentProducer({});
  let closed = false;

  const renew = (failed: Producer, err: unknown) => {
    if (producer !== failed || closed) return;
    const reason = reasonOf(err);
    producer = create();
    failed.close(true, (e) => {
      if (e) log.debug({ err: e }, 'closing a failed producer');
    });
    log.warn({ reason }, 'Kafka send failed: producer replaced (new producer id), resending');
    options.onRenew?.(reason);
  };

  const deliver = async (records: KafkaRecord[]) => {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const current = producer;
      try {
        await current.send({ messages: records });
        if (attempt > 1) log.info({ attempt, records: records.length }, 'records delivered');
        return;
      } catch (err) {
        renew(current, err);
        if (closed || isPermanent(err)) throw err;
        const backoff = Math.min(100 * 2 ** (attempt - 1), 2_000) * (0.75 + Math.random() / 2);
        if (Date.now() - started + backoff > deliveryTimeoutMs) {
          throw new DeliveryTimeoutError(deliveryTimeoutMs, err);
        }
        await sleep(backoff);
      }
    }
  };

  // One send at a time: concurrent batches to one partition would share a sequence number.
  let tail: Promise<unknown> = Promise.resolve();
  const sendMany = (batches: TopicMessages[]): Promise<void> => {
    const records: KafkaRecord[] = [];
    for (const b of batches) for (const m of b.messages) records.push(toRecord(b.topic, m));
    const run = tail.then(() => deliver(records));
    tail = run.catch(() => undefined);
    return run;
  };
  return {
    send: (topic, messages) => sendMany([{ topic, messages }]),
    sendMany,
    disconnect: async () => {
      await tail;
      closed = true;
      await producer.close();
      log.debug('fast producer closed');
    },
  };
}

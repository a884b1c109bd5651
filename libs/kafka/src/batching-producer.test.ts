import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import {
  createBatchingProducer,
  createKafka,
  createProducer,
  ensureTopics,
  parseBrokers,
  ProducerClosedError,
  shardByKey,
  type MailroomProducer,
} from './index.js';

const logger = testLogger();
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'test-batching',
  logger,
});
let producer: MailroomProducer;
const consumers: Consumer[] = [];

beforeAll(async () => {
  producer = await createProducer(kafka);
});
afterAll(async () => {
  await Promise.all(consumers.map((c) => c.disconnect()));
  await producer.disconnect();
});

/** The real producer, watched: how many requests, how many at once, how many acked. */
function watched(inner: MailroomProducer) {
  const stats = { requests: 0, inFlight: 0, maxInFlight: 0, acked: 0, sizes: [] as number[] };
  const wrapped: MailroomProducer = {
    ...inner,
    send: async (topic, messages) => {
      stats.requests += 1;
      stats.inFlight += 1;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      stats.sizes.push(messages.length);
      try {
        await inner.send(topic, messages);
        stats.acked += messages.length;
      } finally {
        stats.inFlight -= 1;
      }
    },
  };
  return { wrapped, stats };
}

async function topicWith(partitions: number) {
  const topic = unique('test.batching');
  await ensureTopics(kafka, [{ topic, partitions, replicationFactor: 1 }]);
  return topic;
}

async function readAll(topic: string) {
  const seen: KafkaMessage[] = [];
  const consumer = kafka.consumer({ groupId: unique('g') });
  consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) });
  return seen;
}

describe('createBatchingProducer', () => {
  it('coalesces concurrent sends, one request in flight, every record arrives in key order', async () => {
    const topic = await topicWith(3);
    const { wrapped, stats } = watched(producer);
    const batching = createBatchingProducer(wrapped, { maxBatch: 100 });
    const n = 600;
    let resolvedBeforeAck = 0;
    const sends = Array.from({ length: n }, (_, i) =>
      batching.send(topic, { key: `k${i % 5}`, value: JSON.stringify({ i }) }).then(() => {
        // FIFO: record i is acknowledged once at least i + 1 records are.
        if (stats.acked < i + 1) resolvedBeforeAck += 1;
      }),
    );
    await Promise.all(sends);
    expect(resolvedBeforeAck).toBe(0);
    expect(stats.maxInFlight).toBe(1);
    expect(stats.requests).toBeLessThan(n / 10);
    expect(Math.max(...stats.sizes)).toBeLessThanOrEqual(100);

    const seen = await readAll(topic);
    await waitFor(() => seen.length >= n, { what: `${n} records` });
    expect(seen).toHaveLength(n);
    for (let k = 0; k < 5; k++) {
      const order = seen
        .filter((m) => m.key?.toString() === `k${k}`)
        .map((m) => (JSON.parse(m.value!.toString()) as { i: number }).i);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    await batching.close();
  });

  it('sends the next batch before it answers the callers of the acknowledged one', async () => {
    const topic = await topicWith(3);
    const { wrapped, stats } = watched(producer);
    const batching = createBatchingProducer(wrapped, { maxBatch: 100 });
    // The first record leaves alone; the next ones queue while it is in flight.
    const first = batching.send(topic, { key: 'a', value: 'first' }).then(() => stats.requests);
    await new Promise((r) => setImmediate(r));
    expect(stats.requests).toBe(1);
    const rest = Array.from({ length: 20 }, (_, i) =>
      batching.send(topic, { key: `k${i}`, value: String(i) }),
    );
    // When the first caller hears of its ack, the second request is already out.
    expect(await first).toBe(2);
    await Promise.all(rest);
    expect(stats.sizes).toEqual([1, 20]);
    expect(stats.acked).toBe(21);
    await batching.close();
  });

  it('lingers an idle record, and flush() sends it at once', async () => {
    const topic = await topicWith(1);
    const { wrapped, stats } = watched(producer);
    const batching = createBatchingProducer(wrapped, { lingerMs: 60_000 });
    let done = false;
    const p = batching.send(topic, { value: 'x' }).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(stats.requests).toBe(0);
    await batching.flush();
    await p;
    expect(done).toBe(true);
    expect(stats.requests).toBe(1);
  });

  it('rejects every caller of a failed batch, and the next batch still succeeds', async () => {
    const topic = await topicWith(1);
    const { wrapped } = watched(producer);
    const batching = createBatchingProducer(wrapped, {
      lingerMs: 50,
      maxBatchBytes: 10_000_000,
    });
    // 2 MB in one partition's batch is above the broker's message.max.bytes (1 MiB).
    const results = await Promise.allSettled([
      batching.send(topic, { key: 'a', value: 'small a' }),
      batching.send(topic, { key: 'a', value: 'x'.repeat(2_000_000) }),
      batching.send(topic, { key: 'a', value: 'small b' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    const reason = (results[0] as PromiseRejectedResult).reason as Error;
    expect(reason.message).toMatch(/too large|size/i);

    await batching.send(topic, { key: 'a', value: 'after' });
    const seen = await readAll(topic);
    await waitFor(() => seen.length >= 1, { what: 'the record after the failure' });
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.map((m) => m.value?.toString())).toEqual(['after']);
    await batching.close();
  });

  it('keeps big records out of one request by maxBatchBytes', async () => {
    const topic = await topicWith(1);
    const { wrapped, stats } = watched(producer);
    const batching = createBatchingProducer(wrapped, { lingerMs: 20, maxBatchBytes: 500_000 });
    const big = 'y'.repeat(300_000);
    await Promise.all([1, 2, 3].map((i) => batching.send(topic, { key: `${i}`, value: big })));
    expect(stats.sizes).toEqual([1, 1, 1]);
    await batching.close();
  });

  it('refuses sends after close() with a stable code', async () => {
    const batching = createBatchingProducer(producer);
    await batching.close();
    await expect(batching.send('whatever', { value: 'x' })).rejects.toBeInstanceOf(
      ProducerClosedError,
    );
  });
});

describe('shardByKey', () => {
  it('spreads keys over lanes, keeps each key on one lane and in order', async () => {
    const topic = await topicWith(3);
    const second = await createProducer(kafka);
    const a = watched(producer);
    const b = watched(second);
    const sharded = shardByKey([
      createBatchingProducer(a.wrapped),
      createBatchingProducer(b.wrapped),
    ]);
    const n = 400;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        sharded.send(topic, { key: `key-${i % 20}`, value: JSON.stringify({ i }) }),
      ),
    );
    await sharded.close();
    await second.disconnect();
    expect(a.stats.acked + b.stats.acked).toBe(n);
    expect(a.stats.acked).toBeGreaterThan(0);
    expect(b.stats.acked).toBeGreaterThan(0);
    const seen = await readAll(topic);
    await waitFor(() => seen.length >= n, { what: `${n} records` });
    for (let k = 0; k < 20; k++) {
      const order = seen
        .filter((m) => m.key?.toString() === `key-${k}`)
        .map((m) => (JSON.parse(m.value!.toString()) as { i: number }).i);
      expect(order).toHaveLength(n / 20);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
  });
});

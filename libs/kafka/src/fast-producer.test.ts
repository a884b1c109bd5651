import { afterAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import {
  createFastProducer,
  createKafka,
  createProducer,
  ensureTopics,
  parseBrokers,
  runConsumer,
  type ConsumedRecord,
  type MailroomProducer,
} from './index.js';

const logger = testLogger();
const brokers = parseBrokers(stackEnv('KAFKA_BROKERS'));
const kafka = createKafka({ brokers, clientId: 'test-fast', logger });
const open: MailroomProducer[] = [];
afterAll(async () => {
  await Promise.all(open.map((p) => p.disconnect()));
});

describe('createFastProducer', () => {
  it('writes records with headers that kafkajs consumers read, on the partitions kafkajs picks', async () => {
    const topic = unique('test.fast');
    const other = unique('test.fast');
    await ensureTopics(kafka, [
      { topic, partitions: 6, replicationFactor: 1 },
      { topic: other, partitions: 6, replicationFactor: 1 },
    ]);
    const fast = await createFastProducer({ brokers, clientId: 'test-fast', logger });
    const classic = await createProducer(kafka);
    open.push(fast, classic);
    const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`);
    await fast.send(
      topic,
      keys.map((k) => ({ key: k, value: `fast:${k}`, headers: { 'event-type': 'x' } })),
    );
    await classic.send(
      topic,
      keys.map((k) => ({ key: k, value: `classic:${k}` })),
    );
    await fast.sendMany([{ topic: other, messages: [{ key: 'a', value: 'to the other topic' }] }]);

    const seen: ConsumedRecord[] = [];
    const consumer = await runConsumer({
      kafka,
      producer: classic,
      logger,
      registry: new Registry(),
      groupId: unique('g'),
      topics: [topic, other],
      handler: async (r) => void seen.push(r),
    });
    await waitFor(() => seen.length >= 61, { what: '61 records', timeoutMs: 30_000 });
    await consumer.stop();
    for (const k of keys) {
      const fastRecord = seen.find((r) => r.value?.toString() === `fast:${k}`)!;
      const classicRecord = seen.find((r) => r.value?.toString() === `classic:${k}`)!;
      expect(fastRecord.partition).toBe(classicRecord.partition);
      expect(fastRecord.headers['event-type']).toBe('x');
    }
    expect(seen.find((r) => r.topic === other)?.value?.toString()).toBe('to the other topic');
  });
});

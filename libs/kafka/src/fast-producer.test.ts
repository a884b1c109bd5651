import type { KafkaMessage } from 'kafkajs';
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

  it('renews the producer after a partly written request, so no later record is dropped', async () => {
    // One produce request for two partitions: the broker writes partition 0's record and
    // refuses partition 1's (too large for the topic), and the library advances neither
    // sequence number. The next single record to partition 0 would then carry the number
    // of the one just written, and the broker would take it for a duplicate and drop it.
    const topic = unique('test.fast-partial');
    await ensureTopics(kafka, [
      { topic, partitions: 2, replicationFactor: 1, configs: { 'max.message.bytes': '2000' } },
    ]);
    const renewals: string[] = [];
    const fast = await createFastProducer({
      brokers,
      clientId: 'test-fast',
      logger,
      onRenew: (reason) => renewals.push(reason),
    });
    open.push(fast);
    await fast.send(topic, [{ partition: 0, value: 'a1' }]);
    await expect(
      fast.send(topic, [
        { partition: 0, value: 'a2' },
        { partition: 1, value: 'x'.repeat(5_000) },
      ]),
    ).rejects.toThrow();
    expect(renewals.join()).toMatch(/MESSAGE_TOO_LARGE/);
    await fast.send(topic, [{ partition: 0, value: 'a3' }]);
    await fast.send(topic, [{ partition: 0, value: 'a4' }]);

    const seen: KafkaMessage[] = [];
    const consumer = kafka.consumer({ groupId: unique('g') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) });
    await waitFor(() => seen.length >= 4, { what: '4 records' });
    await new Promise((r) => setTimeout(r, 300));
    await consumer.disconnect();
    expect(seen.map((m) => m.value?.toString())).toEqual(['a1', 'a2', 'a3', 'a4']);
  });
});

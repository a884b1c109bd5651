import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import { createKafka, dlqTopicOf, parseBrokers, startConsumerApp } from './index.js';

const logger = testLogger();
const config = (port: number) => ({
  KAFKA_BROKERS: stackEnv('KAFKA_BROKERS'),
  KAFKA_CLIENT_ID: unique('app'),
  KAFKA_TOPIC_PARTITIONS: 2,
  KAFKA_REPLICATION_FACTOR: 1,
  KAFKA_FETCH_MIN_BYTES: 1,
  KAFKA_FETCH_MAX_WAIT_MS: 100,
  KAFKA_COMMIT_INTERVAL_MS: 1000,
  METRICS_PORT: port,
  METRICS_HOST: '127.0.0.1',
});

async function groupMembers(groupId: string): Promise<number> {
  const admin = createKafka({
    brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
    clientId: 'test',
    logger,
  }).admin();
  await admin.connect();
  try {
    return (await admin.describeGroups([groupId])).groups[0]?.members.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}

describe('startConsumerApp', () => {
  it('creates its topics, consumes, answers /ready with Kafka and its own checks, and stops', async () => {
    const topic = unique('test.app');
    const groupId = unique('app');
    const seen: string[] = [];
    let closed = false;
    const app = await startConsumerApp({
      name: 'test',
      config: config(0),
      logger,
      registry: new Registry(),
      topics: [topic, dlqTopicOf(topic), topic],
      consume: () => ({
        groupId,
        topics: [topic],
        fromBeginning: true,
        handler: async (r) => {
          seen.push(r.value?.toString() ?? '');
        },
      }),
      checks: { own: async () => undefined },
      close: async () => {
        closed = true;
      },
    });
    await app.joined;
    await app.producer.send(topic, [{ key: 'k', value: 'hello' }]);
    await waitFor(() => seen.length === 1, { what: 'the record consumed' });
    const ready = await fetch(`http://127.0.0.1:${app.port}/ready`);
    expect(ready.status).toBe(200);
    expect(JSON.stringify(await ready.json())).toMatch(/kafka.*own|own.*kafka/);
    await app.stop();
    expect(closed).toBe(true);
    expect(await groupMembers(groupId)).toBe(0);
  });

  it('runs several consumers of its group: one waiting in its handler does not hold the others', async () => {
    const topic = unique('test.app');
    const groupId = unique('app');
    const seen: string[] = [];
    let slowStarted = false;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const app = await startConsumerApp({
      name: 'test',
      config: config(0),
      logger,
      registry: new Registry(),
      topics: [topic],
      consumers: 2,
      consume: () => ({
        groupId,
        topics: [topic],
        fromBeginning: true,
        handler: async (r) => {
          if (r.value?.toString() === 'slow') {
            slowStarted = true;
            await held;
          }
          seen.push(`${r.partition}:${r.value?.toString() ?? ''}`);
        },
      }),
    });
    try {
      await app.joined;
      expect(await groupMembers(groupId)).toBe(2);
      await app.producer.send(topic, [{ key: 'a', value: 'slow', partition: 0 }]);
      await waitFor(() => slowStarted, { what: "partition 0's handler holding its record" });
      await app.producer.send(topic, [{ key: 'b', value: 'fast', partition: 1 }]);
      // One consumer has each partition: partition 1's record is handled while
      // partition 0's handler still waits (one consumer would fetch again only after it).
      await waitFor(() => seen.includes('1:fast'), { what: "partition 1's record" });
      expect(seen).toEqual(['1:fast']);
      release();
      await waitFor(() => seen.includes('0:slow'), { what: "partition 0's record" });
    } finally {
      release();
      await app.stop();
    }
    expect(await groupMembers(groupId)).toBe(0);
  });

  it('fails to start when its port is taken, and leaves no consumer in the group', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    const groupId = unique('app');
    const topic = unique('test.app');
    try {
      await expect(
        startConsumerApp({
          name: 'test',
          config: config(port),
          logger,
          registry: new Registry(),
          topics: [topic],
          consume: () => ({ groupId, topics: [topic], handler: async () => undefined }),
        }),
      ).rejects.toThrow(/EADDRINUSE/);
      expect(await groupMembers(groupId)).toBe(0);
    } finally {
      blocker.close();
    }
  });
});

// The intake's producer (@platformatic/kafka, recovering) while the real broker of the
// local stack goes away with sends in flight: once cleanly (SIGTERM, as an operator
// restarts it) and once killed (SIGKILL 200 ms into its shutdown). Every send must resolve once the broker is
// back, and every acknowledged record must be on the topic. Runs in the pipeline group
// (one file at a time): nothing else may be using the broker meanwhile.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createBatchingProducer,
  createFastProducer,
  createKafka,
  ensureTopics,
  parseBrokers,
  shardByKey,
  type MailroomProducer,
} from '@mailroom/kafka';
import { stackEnv, testLogger, unique, waitFor } from '../support/env.js';
import { startBroker, stopBroker } from './support/kafka-broker.js';

const logger = testLogger('fast-producer-restart');
const brokers = parseBrokers(stackEnv('KAFKA_BROKERS'));
const kafka = createKafka({ brokers, clientId: 'test-restart', logger });
const open: { disconnect(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.disconnect()));
});

/** Every value on the topic, read from the beginning until `count` arrived. */
async function readValues(topic: string, count: number): Promise<string[]> {
  const values: string[] = [];
  const consumer: Consumer = kafka.consumer({ groupId: unique('g') });
  open.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => void values.push(message.value!.toString()),
  });
  await waitFor(() => values.length >= count, { what: `${count} records`, timeoutMs: 60_000 });
  await consumer.disconnect();
  return values;
}

async function throughRestart(stop: () => Promise<void>) {
  const topic = unique('test.restart');
  await ensureTopics(kafka, [{ topic, partitions: 3, replicationFactor: 1 }]);
  const renewals: string[] = [];
  // As intake runs it: two lanes, each a batching producer on its own idempotent producer.
  const lanes: MailroomProducer[] = await Promise.all(
    [1, 2].map(() =>
      createFastProducer({
        brokers,
        clientId: 'test-restart',
        logger,
        deliveryTimeoutMs: 180_000,
        onRenew: (reason) => renewals.push(reason),
      }),
    ),
  );
  open.push(...lanes);
  const producer = shardByKey(lanes.map((p) => createBatchingProducer(p)));

  // Open loop: 10 records every 10 ms whatever the answers, so that many sends are in
  // flight or queued when the broker goes, and more keep coming while it is away.
  const sends: Promise<string>[] = [];
  let n = 0;
  const tick = setInterval(() => {
    for (let i = 0; i < 10; i++) {
      const id = `r-${n++}`;
      sends.push(producer.send(topic, { key: `k-${n % 50}`, value: id }).then(() => id));
    }
  }, 10);
  try {
    await sleep(2_000);
    await stop();
    await sleep(2_000);
    await startBroker();
    await sleep(3_000);
  } finally {
    clearInterval(tick);
  }
  const results = await Promise.allSettled(sends);
  const rejected = results.filter((r) => r.status === 'rejected');
  expect(rejected.map((r) => String(r.reason)).slice(0, 3)).toEqual([]);
  const acked = results.map((r) => (r as PromiseFulfilledResult<string>).value);
  const onTopic = new Set(await readValues(topic, acked.length));
  const lost = acked.filter((id) => !onTopic.has(id));
  expect(lost.slice(0, 10)).toEqual([]);
  await producer.close();
  console.log(
    `${acked.length} sends, all acknowledged, none lost; producer renewed ${renewals.length}x:`,
    [...new Set(renewals)].slice(0, 5),
  );
  return { acked: acked.length, renewals };
}

describe('the fast producer through a broker restart', () => {
  it('acknowledges every send and loses none when the broker is restarted', async () => {
    const { acked } = await throughRestart(() => stopBroker());
    expect(acked).toBeGreaterThan(1_000);
  }, 300_000);

  it('acknowledges every send and loses none when the broker is killed (SIGKILL during its shutdown)', async () => {
    const { acked } = await throughRestart(() => stopBroker(0));
    expect(acked).toBeGreaterThan(1_000);
  }, 300_000);
});

// The bus limit on this machine, measured in the same run: a kafkajs producer (acks=all,
// batches) into a fresh topic with the pipeline's partition count, and a consumer reading
// it back, with records of the size of a real tickets.raw submission. It produces through
// the apps' own kafkajs producer (libs/kafka): raw kafkajs sends in flight side by side
// fail with OUT_OF_ORDER_SEQUENCE_NUMBER when a fresh topic's leader is not settled yet.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createProducer } from '@mailroom/kafka';

export interface BusFigures {
  records: number;
  recordBytes: number;
  producePerSec: number;
  consumePerSec: number;
}

export async function measureBus(
  brokers: string[],
  records: number,
  recordBytes: number,
  partitions = 6,
): Promise<BusFigures> {
  const kafka = new Kafka({ clientId: 'bench-bus', brokers, logLevel: logLevel.ERROR });
  const topic = `bench.bus.${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: partitions }],
    waitForLeaders: true,
  });
  const producer = await createProducer(kafka);
  const consumer = kafka.consumer({ groupId: `bench-bus-${randomUUID().slice(0, 8)}` });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    let lastAt = 0;
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      partitionsConsumedConcurrently: partitions,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        lastAt = Date.now();
        if (seen >= records) done();
      },
    });
    const value = Buffer.alloc(recordBytes, 'x');
    const batch = 500;
    const started = Date.now();
    // Several sends waiting, as the intake's batching producer keeps them (the producer
    // sends what waits as its next request).
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < records; i += batch) {
      const messages = Array.from({ length: Math.min(batch, records - i) }, (_, j) => ({
        key: String(i + j),
        value,
      }));
      sends.push(producer.send(topic, messages));
      if (sends.length >= 4) await sends.shift();
    }
    await Promise.all(sends);
    const produced = Date.now();
    await all;
    return {
      records,
      recordBytes,
      producePerSec: records / ((produced - started) / 1000),
      consumePerSec: records / ((lastAt - started) / 1000),
    };
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  }
}

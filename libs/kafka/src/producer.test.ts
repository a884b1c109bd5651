// createProducer's ordering and recovery, on a kafkajs stand-in that records what the
// wrapper asks of it (sending to real brokers is covered by kafka.test.ts and by the
// 3-broker leader-kill test).
import type {
  Kafka,
  Producer,
  ProducerBatch,
  ProducerConfig,
  ProducerRecord,
  RecordMetadata,
  TopicMessages,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createProducer } from './producer.js';

interface FakeProducer {
  id: number;
  sent: string[];
  values: string[];
  disconnected: boolean;
}

/**
 * Each send waits until the test settles it: `settle(i, err?)` for the i-th send. Records
 * go to partitions (0 and 1) through the producer's own partitioner; a send answers
 * for every partition it was given, except those a test names in `skip` (what kafkajs
 * does when its retry leaves out a broker that answered before).
 */
function fakeKafka() {
  const producers: FakeProducer[] = [];
  const pending: { topic: string; settle: (err?: Error) => void }[] = [];
  const events: string[] = [];
  const warnings: string[] = [];
  const skip: { topic: string; partition: number }[] = [];
  const partitionMetadata = [0, 1].map((partitionId) => ({
    partitionId,
    leader: partitionId,
    partitionErrorCode: 0,
    replicas: [],
    isr: [],
  }));
  const kafka = {
    logger: () => ({ warn: (msg: string) => warnings.push(msg) }),
    producer: (config: ProducerConfig) => {
      const state: FakeProducer = {
        id: producers.length,
        sent: [],
        values: [],
        disconnected: false,
      };
      producers.push(state);
      const partitioner = config.createPartitioner!();
      const request = (batches: TopicMessages[]) =>
        new Promise<RecordMetadata[]>((resolve, reject) => {
          const topic = batches.map((t) => t.topic).join('+');
          const answer: RecordMetadata[] = [];
          for (const b of batches)
            for (const message of b.messages) {
              const partition = partitioner({ topic: b.topic, message, partitionMetadata });
              if (!answer.some((a) => a.topicName === b.topic && a.partition === partition))
                answer.push({ topicName: b.topic, partition, errorCode: 0 });
            }
          const values = batches.flatMap((b) => b.messages.map((m) => m.value as string));
          events.push(`start ${topic} on ${state.id}`);
          state.sent.push(topic);
          state.values.push(...values);
          pending.push({
            topic,
            settle: (err) => {
              events.push(`end ${topic}`);
              const skipped = skip.splice(0);
              if (err) reject(err);
              else
                resolve(
                  answer.filter(
                    (a) =>
                      !skipped.some((x) => x.topic === a.topicName && x.partition === a.partition),
                  ),
                );
            },
          });
        });
      const p = {
        connect: () => Promise.resolve(),
        disconnect: () => {
          state.disconnected = true;
          return Promise.resolve();
        },
        send: (record: ProducerRecord) => request([record]),
        sendBatch: (batch: ProducerBatch) => request(batch.topicMessages ?? []),
      };
      return p as unknown as Producer;
    },
  };
  return { kafka: kafka as unknown as Kafka, producers, pending, events, warnings, skip };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('createProducer', () => {
  it('has one request in flight; sends made meanwhile leave together, in call order', async () => {
    const f = fakeKafka();
    const producer = await createProducer(f.kafka);
    const a = producer.send('a', [{ value: '1' }]);
    const b = producer.send('b', [{ value: '2' }]);
    const c = producer.send('c', [{ value: '3' }]);
    const b2 = producer.send('b', [{ value: '4' }]);
    await tick();
    expect(f.events).toEqual(['start a on 0']);
    f.pending[0]!.settle();
    await a;
    await tick();
    // b, c and b again as one request: the two b sends as one topic batch.
    expect(f.events).toEqual(['start a on 0', 'end a', 'start b+c on 0']);
    f.pending[1]!.settle();
    await Promise.all([b, c, b2]);
    expect(f.events).toEqual(['start a on 0', 'end a', 'start b+c on 0', 'end b+c']);
  });

  it('after a failed request, rejects its caller and sends the next on a new producer', async () => {
    const f = fakeKafka();
    const producer = await createProducer(f.kafka);
    const a = producer.send('a', [{ value: '1' }]);
    const b = producer.send('b', [{ value: '2' }]);
    await tick();
    f.pending[0]!.settle(new Error('broker gone'));
    await expect(a).rejects.toThrow('broker gone');
    await tick();
    // b went out on producer 1 (a new producer id); producer 0 was let go.
    expect(f.producers.map((p) => p.sent)).toEqual([['a'], ['b']]);
    expect(f.producers[0]!.disconnected).toBe(true);
    f.pending[1]!.settle();
    await b;
    // No failure since: the next send stays on producer 1.
    const c = producer.send('c', [{ value: '3' }]);
    await tick();
    f.pending[2]!.settle();
    await c;
    expect(f.producers).toHaveLength(2);
    expect(f.producers[1]!.sent).toEqual(['b', 'c']);
  });

  it('when a joint request fails, sends its parts one by one: only the bad one fails', async () => {
    const f = fakeKafka();
    const producer = await createProducer(f.kafka);
    const a = producer.send('a', [{ value: '1' }]);
    const bad = producer.send('bad', [{ value: 'x' }]);
    const good = producer.send('good', [{ value: '2' }]);
    await tick();
    f.pending[0]!.settle();
    await a;
    await tick();
    f.pending[1]!.settle(new Error('record too large'));
    await tick();
    f.pending[2]!.settle(new Error('record too large'));
    await expect(bad).rejects.toThrow('record too large');
    await tick();
    f.pending[3]!.settle();
    await good;
    expect(f.events.filter((e) => e.startsWith('start'))).toEqual([
      'start a on 0',
      'start bad+good on 0',
      'start bad on 1',
      'start good on 2',
    ]);
  });

  it('sends again, in order, the records of partitions kafkajs answered without sending', async () => {
    const f = fakeKafka();
    const told: [string, number][][] = [];
    const producer = await createProducer(f.kafka, { onUnsent: (m) => told.push([...m]) });
    f.skip.push({ topic: 'events', partition: 1 });
    const sent = producer.sendMany([
      {
        topic: 'events',
        messages: [
          { value: 'a', partition: 0 },
          { value: 'b', partition: 1 },
          { value: 'c', partition: 1 },
        ],
      },
      { topic: 'other', messages: [{ value: 'd', partition: 1 }] },
    ]);
    await tick();
    f.pending[0]!.settle(); // answers for events/0 and other/1 only
    await tick();
    // Only the unanswered records, on the same producer (their sequence numbers were given
    // back), with nothing answered to the caller yet.
    expect(f.producers).toHaveLength(1);
    expect(f.producers[0]!.sent).toEqual(['events+other', 'events']);
    expect(f.producers[0]!.values).toEqual(['a', 'b', 'c', 'd', 'b', 'c']);
    expect(f.warnings).toHaveLength(1);
    expect(told).toEqual([[['events', 2]]]);
    f.pending[1]!.settle();
    await sent;
  });

  it('fails the send when kafkajs keeps answering without sending', async () => {
    const f = fakeKafka();
    const producer = await createProducer(f.kafka);
    const sent = producer.send('events', [{ value: 'a', partition: 1 }]);
    for (let i = 0; i < 6; i++) {
      await tick();
      f.skip.push({ topic: 'events', partition: 1 });
      f.pending[i]!.settle();
    }
    await expect(sent).rejects.toThrow('left 1 records unsent 6 times');
    // The next send goes out on a new producer.
    const next = producer.send('events', [{ value: 'b', partition: 0 }]);
    await tick();
    f.pending[6]!.settle();
    await next;
    expect(f.producers).toHaveLength(2);
  });

  it('disconnects after the sends in flight are done', async () => {
    const f = fakeKafka();
    const producer = await createProducer(f.kafka);
    const a = producer.send('a', [{ value: '1' }]);
    const closed = producer.disconnect();
    await tick();
    expect(f.producers[0]!.disconnected).toBe(false);
    f.pending[0]!.settle();
    await Promise.all([a, closed]);
    expect(f.producers[0]!.disconnected).toBe(true);
  });
});

import {
  CompressionTypes,
  Partitioners,
  type ICustomPartitioner,
  type Kafka,
  type Message,
  type Producer,
  type RecordMetadata,
} from 'kafkajs';

export type { Message };

export interface ProducerOptions {
  /** Compress batches (lz4/zstd need extra codecs in kafkajs; gzip is built in). */
  compression?: 'none' | 'gzip';
  /**
   * Told each time kafkajs answered a request without sending some of its records (they
   * are then sent again): records per topic. For a metric; the producer also logs it.
   */
  onUnsent?: (recordsByTopic: ReadonlyMap<string, number>) => void;
}

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

/** What the apps produce through, whichever Kafka client is behind it. */
export interface MailroomProducer {
  /** Resolves once every record is acknowledged by all in-sync replicas (acks=all). */
  send(topic: string, messages: Message[]): Promise<void>;
  /** Several topics in one produce request. */
  sendMany(batches: TopicMessages[]): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * The idempotent producer (DESIGN.md: idempotent, acks=all). kafkajs requires one
 * in-flight request per connection for idempotence; throughput comes from batching.
 *
 * One request at a time, across all brokers. kafkajs numbers each partition's batches
 * (the idempotent sequence) when it builds a request and takes the numbers back when the
 * request fails. With two sends in flight for one partition during a leader change (one
 * still waiting on the dead leader, the other already at the new one), the second can be
 * given the numbers of a batch the new leader already holds; with the same record count
 * the broker takes it for a duplicate, acknowledges it and writes nothing: a lost record
 * (the 3-broker leader-kill test caught a ticket.created lost this way). One request at
 * a time keeps the numbers right while kafkajs retries inside it. Sends that arrive while
 * a request is in flight leave together as the next one (call order kept per topic), so
 * handlers of many partitions do not queue behind each other; if that request fails, its
 * sends are tried again one by one, so one caller's bad records fail only that caller.
 * After a request fails for good, what the broker holds is unknown, so the next one goes
 * out on a new producer (a new producer id, numbers from 0): a record may then be written
 * twice, never dropped, and consumers dedupe by event id.
 *
 * kafkajs 2.2.4 can also report a send done without having sent some of it
 * (tulios/kafkajs#1303, #1798): a send that spans two brokers, where one answers and
 * the other dies, is retried only to the brokers without an answer; when the dead
 * broker's partitions now have the broker that answered as their leader, their records
 * are not sent at all and the send resolves (the 3-broker leader-kill test lost a
 * ticket.created this way). So every request checks the partitions kafkajs answers for
 * against the partitions its records were given (the partitioner notes them), and sends
 * the records of unanswered partitions again, in their order, on the same producer: their
 * sequence numbers were given back, so if the dead leader did write them, the broker
 * takes the resend for a duplicate of that batch.
 */
export async function createProducer(
  kafka: Kafka,
  options: ProducerOptions = {},
): Promise<MailroomProducer> {
  // The partition kafkajs gave each record on its last try (see unanswered below).
  const partitionOf = new WeakMap<Message, number>();
  const notingPartitioner: ICustomPartitioner = () => {
    // murmur2 like the Java client, so keys land on the same partitions from any client.
    const partition = Partitioners.DefaultPartitioner();
    return (args) => {
      const chosen = partition(args);
      partitionOf.set(args.message, chosen);
      return chosen;
    };
  };
  const open = async (): Promise<Producer> => {
    const p = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: notingPartitioner,
      // No retry limit of its own: kafkajs retries an idempotent send with the same
      // numbers (the client's retry settings bound it); callers retry beyond that.
    });
    await p.connect();
    return p;
  };
  let producer = await open();
  let failed = false;
  const compression =
    options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;

  const request = async (batches: TopicMessages[]): Promise<void> => {
    if (failed) {
      const old = producer;
      producer = await open();
      failed = false;
      old.disconnect().catch(() => undefined);
    }
    // Own copies: the partitioner notes partitions per message object.
    let rest = batches.map((b) => ({
      topic: b.topic,
      messages: b.messages.map((m) => ({ ...m })),
    }));
    try {
      for (let resends = 0; ; resends++) {
        const answered =
          rest.length === 1
            ? await producer.send({ ...rest[0]!, acks: -1, compression })
            : await producer.sendBatch({ topicMessages: rest, acks: -1, compression });
        const unsent = unanswered(rest, answered, partitionOf);
        if (unsent.length === 0) return;
        const count = unsent.reduce((n, b) => n + b.messages.length, 0);
        if (resends >= MAX_RESENDS)
          throw new Error(`kafkajs left ${count} records unsent ${resends + 1} times`);
        kafka.logger().warn('kafkajs answered without sending some records: sending them again', {
          records: count,
          topics: unsent.map((b) => b.topic),
        });
        options.onUnsent?.(new Map(unsent.map((b) => [b.topic, b.messages.length])));
        rest = unsent;
      }
    } catch (err) {
      failed = true;
      throw err;
    }
  };

  interface Pending {
    batches: TopicMessages[];
    resolve: () => void;
    reject: (err: unknown) => void;
  }
  const queue: Pending[] = [];
  let pumping: Promise<void> | undefined;
  const pump = async () => {
    while (queue.length > 0) {
      const group = queue.splice(0);
      try {
        await request(merged(group.map((p) => p.batches)));
        for (const p of group) p.resolve();
      } catch (err) {
        if (group.length === 1) group[0]!.reject(err);
        else for (const p of group) await request(p.batches).then(p.resolve, p.reject);
      }
    }
    pumping = undefined;
  };
  const enqueue = (batches: TopicMessages[]): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      queue.push({ batches, resolve, reject });
      pumping ??= pump();
    });

  return {
    send: (topic, messages) => enqueue([{ topic, messages }]),
    sendMany: (batches) => enqueue(batches),
    disconnect: async () => {
      while (pumping) await pumping;
      await producer.disconnect();
    },
  };
}

/** How often one request sends records kafkajs skipped before it gives up. */
const MAX_RESENDS = 5;

/**
 * The records whose partition kafkajs did not answer for: a record counts as sent only
 * when the answer names the topic and the partition the partitioner gave it.
 */
function unanswered(
  batches: readonly TopicMessages[],
  answered: readonly RecordMetadata[],
  partitionOf: WeakMap<Message, number>,
): TopicMessages[] {
  const done = new Set(answered.map((r) => `${r.partition}@${r.topicName}`));
  const out: TopicMessages[] = [];
  for (const { topic, messages } of batches) {
    const left = messages.filter((m) => {
      const partition = partitionOf.get(m);
      return partition === undefined || !done.has(`${partition}@${topic}`);
    });
    if (left.length > 0) out.push({ topic, messages: left });
  }
  return out;
}

/** The batches of several sends as one, messages of a topic in call order. */
function merged(sends: readonly TopicMessages[][]): TopicMessages[] {
  if (sends.length === 1) return sends[0]!;
  const byTopic = new Map<string, Message[]>();
  for (const batches of sends)
    for (const { topic, messages } of batches) {
      const list = byTopic.get(topic);
      if (list) list.push(...messages);
      else byTopic.set(topic, [...messages]);
    }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

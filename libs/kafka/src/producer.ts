import { CompressionTypes, Partitioners, type Kafka, type Message } from 'kafkajs';

export type { Message };

export interface ProducerOptions {
  /** Compress batches (lz4/zstd need extra codecs in kafkajs; gzip is built in). */
  compression?: 'none' | 'gzip';
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
 */
export async function createProducer(
  kafka: Kafka,
  options: ProducerOptions = {},
): Promise<MailroomProducer> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // murmur2 like the Java client, so keys land on the same partitions from any client.
    createPartitioner: Partitioners.DefaultPartitioner,
    // No retry limit: kafkajs keeps retrying an idempotent send (a bounded count could
    // break the exactly-once sequence); callers bound the wait with their own timeouts.
  });
  await producer.connect();
  const compression =
    options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  return {
    send: async (topic, messages) => {
      await producer.send({ topic, messages, acks: -1, compression });
    },
    sendMany: async (batches) => {
      await producer.sendBatch({ topicMessages: batches, acks: -1, compression });
    },
    disconnect: () => producer.disconnect(),
  };
}

// Watches every dead-letter topic from now on (own group, newest offset) and keeps what
// arrives, so an audit can count the dead letters of its own tickets.
import { Registry } from 'prom-client';
import { DLQ_TOPICS } from '@mailroom/events';
import {
  createKafka,
  createProducer,
  ensureTopics,
  parseBrokers,
  runConsumer,
  topicSpecs,
} from '@mailroom/kafka';
import { stackEnv, testLogger, unique } from '../../support/env.js';

export interface DeadLetter {
  topic: string;
  key: string | null;
  value: string;
  code: string | undefined;
}

export interface DeadLetterWatch {
  records: DeadLetter[];
  /** Dead letters that name one of these ticket ids or carry the marker. */
  matching(marker: string, ticketIds: ReadonlySet<string>): DeadLetter[];
  stop(): Promise<void>;
}

/** `replicationFactor`: of the dead-letter topics, created here as the apps would if missing. */
export async function watchDeadLetters({ replicationFactor = 1 } = {}): Promise<DeadLetterWatch> {
  const logger = testLogger('dlq-watch');
  const kafka = createKafka({
    brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
    clientId: unique('dlq-watch'),
    logger,
  });
  // Subscribing to a topic that does not exist yet fails (a fresh stack has none).
  await ensureTopics(
    kafka,
    topicSpecs(Object.values(DLQ_TOPICS), {
      KAFKA_TOPIC_PARTITIONS: 6,
      KAFKA_REPLICATION_FACTOR: replicationFactor,
    }),
  );
  const producer = await createProducer(kafka);
  const records: DeadLetter[] = [];
  const consumer = await runConsumer({
    kafka,
    producer,
    logger,
    registry: new Registry(),
    groupId: unique('dlq-watch'),
    topics: Object.values(DLQ_TOPICS),
    fromBeginning: false,
    handler: async (r) => {
      records.push({
        topic: r.topic,
        key: r.key,
        value: r.value?.toString('utf8') ?? '',
        code: r.headers['x-error-code'],
      });
    },
  });
  await consumer.joined;
  return {
    records,
    matching: (marker, ids) =>
      records.filter(
        (r) =>
          r.value.includes(marker) ||
          (r.key !== null && ids.has(r.key)) ||
          [...ids].some((id) => r.value.includes(id)),
      ),
    stop: async () => {
      await consumer.stop();
      await producer.disconnect();
    },
  };
}

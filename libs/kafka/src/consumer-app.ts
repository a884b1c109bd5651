// The frame every consumer app shares (ticket-store, categorizer, router, notifier,
// analytics): a Kafka client, its topics ensured, one producer, the consumer loop, and
// the ops server (/metrics, /health, /ready with a Kafka check next to the app's own),
// stopped in the reverse order: consume no more, flush the producer, then the rest.
import { Counter, type Registry } from 'prom-client';
import { registeredMetric, startOpsServer, type Logger } from '@mailroom/observability';
import { createKafka, parseBrokers } from './client.js';
import { runConsumer, type ConsumerOptions } from './consumer.js';
import { createProducer, type MailroomProducer } from './producer.js';
import { ensureTopics, kafkaReadiness, topicSpecs } from './topics.js';

/** The settings of libs/config's KafkaConfig and OpsConfig this frame reads. */
export interface ConsumerAppConfig {
  KAFKA_BROKERS: string;
  KAFKA_CLIENT_ID: string;
  KAFKA_TOPIC_PARTITIONS: number;
  KAFKA_REPLICATION_FACTOR: number;
  KAFKA_FETCH_MIN_BYTES: number;
  KAFKA_FETCH_MAX_WAIT_MS: number;
  KAFKA_COMMIT_INTERVAL_MS: number;
  METRICS_PORT: number;
  METRICS_HOST: string;
}

type ConsumerPart = Omit<
  ConsumerOptions,
  | 'kafka'
  | 'producer'
  | 'logger'
  | 'registry'
  | 'fetchMinBytes'
  | 'fetchMaxWaitMs'
  | 'commitIntervalMs'
>;

export interface ConsumerAppOptions {
  /** The app's name: the Kafka client id's suffix. */
  name: string;
  config: ConsumerAppConfig;
  logger: Logger;
  registry: Registry;
  /** Topics created if missing (with the config's partitions and replication). */
  topics: readonly string[];
  /** The consumer's group, topics and handlers; they may use the app's producer. */
  consume: (producer: MailroomProducer) => ConsumerPart;
  /** Readiness checks besides Kafka's (e.g. postgres). */
  checks?: Record<string, () => Promise<unknown>>;
  /** The app's own resources (a pool), closed last. */
  close?: () => Promise<void>;
  /**
   * Consumers of the group in this process (default 1), each with its share of the
   * partitions. kafkajs fetches again only when every batch of the last fetch is done,
   * so a handler that waits on the network (SMTP) leaves the stage idle between its
   * fetches; two consumers take turns in those gaps.
   */
  consumers?: number;
}

export interface ConsumerApp {
  port: number;
  joined: Promise<void>;
  producer: MailroomProducer;
  stop: () => Promise<void>;
}

export async function startConsumerApp(o: ConsumerAppOptions): Promise<ConsumerApp> {
  const { config, logger, registry } = o;
  const kafka = createKafka({
    brokers: parseBrokers(config.KAFKA_BROKERS),
    clientId: `${config.KAFKA_CLIENT_ID}-${o.name}`,
    logger,
  });
  await ensureTopics(kafka, topicSpecs([...new Set(o.topics)], config));
  const resent = producerResends(registry);
  const producer = await createProducer(kafka, {
    onUnsent: (byTopic) => {
      for (const [topic, n] of byTopic) resent.inc({ topic }, n);
    },
  });
  const readiness = kafkaReadiness(kafka);
  const part = o.consume(producer);
  const consumers = await Promise.all(
    Array.from({ length: Math.max(1, o.consumers ?? 1) }, () =>
      runConsumer({
        kafka,
        producer,
        logger,
        registry,
        fetchMinBytes: config.KAFKA_FETCH_MIN_BYTES,
        fetchMaxWaitMs: config.KAFKA_FETCH_MAX_WAIT_MS,
        commitIntervalMs: config.KAFKA_COMMIT_INTERVAL_MS,
        ...part,
      }),
    ),
  );
  const stopKafka = async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await producer.disconnect();
    await readiness.close();
  };
  // Its port taken, say: the app does not start, and leaves no consumer behind.
  const server = await startOpsServer({
    port: config.METRICS_PORT,
    host: config.METRICS_HOST,
    registry,
    logger,
    checks: { ...o.checks, kafka: () => readiness.check() },
  }).catch(async (err: unknown) => {
    await stopKafka();
    throw err;
  });
  return {
    port: server.port,
    joined: Promise.all(consumers.map((c) => c.joined)).then(() => undefined),
    producer,
    stop: async () => {
      await stopKafka();
      await server.close();
      await o.close?.();
    },
  };
}

/** Records kafkajs reported sent without sending, sent again (see createProducer). */
function producerResends(registry: Registry): Counter<'topic'> {
  const name = 'mailroom_producer_unsent_records_total';
  return registeredMetric(
    registry,
    name,
    () =>
      new Counter({
        name,
        help: 'Records the Kafka client answered for without sending them (a retry across a leader change), sent again.',
        labelNames: ['topic'],
        registers: [registry],
      }),
  );
}

import { ALL_TOPICS, TOPICS } from '@mailroom/events';
import {
  topicSpecs,
  kafkaReadiness,
  createKafka,
  createProducer,
  ensureTopics,
  parseBrokers,
  runConsumer,
} from '@mailroom/kafka';
import {
  createLogger,
  createMetricsRegistry,
  startOpsServer,
  type Logger,
} from '@mailroom/observability';
import { createCategorizerFromConfig } from './build-categorizer.js';
import { createCategorizerMetrics } from './categorizer-metrics.js';
import type { CategorizerConfig } from './config.js';
import { createBatchHandler, createRecordHandler, type HandlerDeps } from './handle-created.js';

export interface StartOptions {
  logger?: Logger;
}

/** categorizer: a stateless consumer group, ticket.created → ticket.categorized. */
export async function start(config: CategorizerConfig, options: StartOptions = {}) {
  const logger = options.logger ?? createLogger({ name: 'categorizer', level: config.LOG_LEVEL });
  const registry = createMetricsRegistry('categorizer');
  // Fails fast on a bad taxonomy or model file, before joining the group.
  const built = await createCategorizerFromConfig(config, { registry, logger });
  const kafka = createKafka({
    brokers: parseBrokers(config.KAFKA_BROKERS),
    clientId: `${config.KAFKA_CLIENT_ID}-categorizer`,
    logger,
  });
  await ensureTopics(kafka, topicSpecs(ALL_TOPICS, config));
  const producer = await createProducer(kafka);
  const readiness = kafkaReadiness(kafka);
  const deps: HandlerDeps = {
    categorizer: built.categorizer,
    taxonomy: built.taxonomy,
    fallbackDepartment: built.fallbackDepartment,
    producer,
    metrics: createCategorizerMetrics(registry),
  };
  const consumer = await runConsumer({
    kafka,
    producer,
    logger,
    registry,
    groupId: config.CATEGORIZER_GROUP_ID,
    topics: [TOPICS.events],
    fetchMinBytes: config.KAFKA_FETCH_MIN_BYTES,
    fetchMaxWaitMs: config.KAFKA_FETCH_MAX_WAIT_MS,
    partitionsConsumedConcurrently: config.CATEGORIZER_CONCURRENCY,
    fromBeginning: config.CATEGORIZER_FROM_BEGINNING,
    maxChunk: config.CATEGORIZER_BATCH_SIZE,
    batchHandler: createBatchHandler(deps),
    handler: createRecordHandler(deps),
  });
  const ops = await startOpsServer({
    port: config.METRICS_PORT,
    host: config.METRICS_HOST,
    registry,
    logger,
    checks: {
      kafka: () => readiness.check(),
    },
  });
  logger.info(
    { mode: built.mode, taxonomy: built.taxonomy.version ?? 'custom' },
    'categorizer started',
  );
  return {
    port: ops.port,
    joined: consumer.joined,
    stop: async () => {
      await consumer.stop();
      await producer.disconnect();
      await ops.close();
      await readiness.close();
    },
  };
}

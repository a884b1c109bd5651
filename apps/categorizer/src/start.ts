import { ALL_TOPICS, TOPICS } from '@mailroom/events';
import { startConsumerApp } from '@mailroom/kafka';
import { createLogger, createMetricsRegistry, type Logger } from '@mailroom/observability';
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
  const metrics = createCategorizerMetrics(registry);
  const app = await startConsumerApp({
    name: 'categorizer',
    config,
    logger,
    registry,
    topics: ALL_TOPICS,
    consume: (producer) => {
      const deps: HandlerDeps = {
        categorizer: built.categorizer,
        taxonomy: built.taxonomy,
        fallbackDepartment: built.fallbackDepartment,
        producer,
        metrics,
      };
      return {
        groupId: config.CATEGORIZER_GROUP_ID,
        topics: [TOPICS.events],
        partitionsConsumedConcurrently: config.CATEGORIZER_CONCURRENCY,
        fromBeginning: config.CATEGORIZER_FROM_BEGINNING,
        maxChunk: config.CATEGORIZER_BATCH_SIZE,
        batchHandler: createBatchHandler(deps),
        handler: createRecordHandler(deps),
      };
    },
  });
  logger.info(
    { mode: built.mode, taxonomy: built.taxonomy.version ?? 'custom' },
    'categorizer started',
  );
  return { port: app.port, joined: app.joined, stop: app.stop };
}

import { createPool } from '@mailroom/db';
import { ALL_TOPICS } from '@mailroom/events';
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
import { Counter } from 'prom-client';
import type { AnalyticsConfig } from './config.js';
import { createHandlers } from './handle-records.js';
import { DEFAULT_PRICES, type PriceTable } from './pricing.js';
import { ROLLUP_METRICS } from './rollup-metric-defs.js';
import { registerRollupMetrics } from './rollup-metrics.js';
import { snapshotReader } from './rollup-snapshot.js';
import { withSearchPath } from './schema.js';

export interface StartOptions {
  logger?: Logger;
  /** Model prices for the cost rollup (USD per million tokens). */
  prices?: PriceTable;
}

export interface RunningAnalytics {
  port: number;
  joined: Promise<void>;
  stop(): Promise<void>;
}

/** analytics: every event on tickets.events → Postgres rollups → /metrics. */
export async function start(
  config: AnalyticsConfig,
  options: StartOptions = {},
): Promise<RunningAnalytics> {
  const logger = options.logger ?? createLogger({ name: 'analytics', level: config.LOG_LEVEL });
  const prices = options.prices ?? DEFAULT_PRICES;
  const registry = createMetricsRegistry('analytics');
  const pool = createPool({
    url: withSearchPath(config.DATABASE_URL, config.ANALYTICS_DB_SCHEMA),
    max: config.DATABASE_POOL_MAX,
    applicationName: 'analytics',
    onIdleError: (err) => logger.warn({ err }, 'idle postgres client failed'),
  });
  const applied = new Counter({
    name: 'mailroom_analytics_events_total',
    help: 'Events seen by analytics, by type and outcome (applied, or duplicate: already in the ledger).',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  });
  registerRollupMetrics(
    registry,
    snapshotReader(pool, config.ANALYTICS_METRICS_CACHE_SECONDS * 1000),
    ROLLUP_METRICS,
  );

  const kafka = createKafka({
    brokers: parseBrokers(config.KAFKA_BROKERS),
    clientId: `${config.KAFKA_CLIENT_ID}-analytics`,
    logger,
  });
  await ensureTopics(
    kafka,
    topicSpecs(
      [
        ...new Set([
          ...ALL_TOPICS,
          config.ANALYTICS_EVENTS_TOPIC,
          `${config.ANALYTICS_EVENTS_TOPIC}.dlq`,
        ]),
      ],
      config,
    ),
  );
  const producer = await createProducer(kafka); // dead letters only
  const readiness = kafkaReadiness(kafka);
  const consumer = await runConsumer({
    kafka,
    producer,
    logger,
    registry,
    groupId: config.ANALYTICS_GROUP_ID,
    topics: [config.ANALYTICS_EVENTS_TOPIC],
    fetchMinBytes: config.KAFKA_FETCH_MIN_BYTES,
    fetchMaxWaitMs: config.KAFKA_FETCH_MAX_WAIT_MS,
    partitionsConsumedConcurrently: config.ANALYTICS_CONCURRENCY,
    fromBeginning: config.ANALYTICS_FROM_BEGINNING,
    maxChunk: config.ANALYTICS_BATCH_SIZE,
    ...createHandlers(pool, prices, applied),
  });
  const ops = await startOpsServer({
    port: config.METRICS_PORT,
    host: config.METRICS_HOST,
    registry,
    logger,
    checks: {
      postgres: () => pool.query('SELECT 1 FROM analytics_applied_events LIMIT 1'),
      kafka: () => readiness.check(),
    },
  });
  logger.info({ schema: config.ANALYTICS_DB_SCHEMA }, 'analytics started');
  return {
    port: ops.port,
    joined: consumer.joined,
    stop: async () => {
      await consumer.stop();
      await producer.disconnect();
      await ops.close();
      await readiness.close();
      await pool.end();
    },
  };
}

import { createPool } from '@mailroom/db';
import { ALL_TOPICS } from '@mailroom/events';
import { startConsumerApp } from '@mailroom/kafka';
import { createLogger, createMetricsRegistry, type Logger } from '@mailroom/observability';
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

  const app = await startConsumerApp({
    name: 'analytics',
    config: {
      ...config,
      KAFKA_FETCH_MAX_WAIT_MS: config.ANALYTICS_FETCH_MAX_WAIT_MS,
      KAFKA_FETCH_MIN_BYTES: config.ANALYTICS_FETCH_MIN_BYTES,
    },
    logger,
    registry,
    topics: [...ALL_TOPICS, config.ANALYTICS_EVENTS_TOPIC, `${config.ANALYTICS_EVENTS_TOPIC}.dlq`],
    // The producer writes dead letters only.
    consume: () => ({
      groupId: config.ANALYTICS_GROUP_ID,
      topics: [config.ANALYTICS_EVENTS_TOPIC],
      partitionsConsumedConcurrently: config.ANALYTICS_CONCURRENCY,
      fromBeginning: config.ANALYTICS_FROM_BEGINNING,
      maxChunk: config.ANALYTICS_BATCH_SIZE,
      ...createHandlers(pool, prices, applied),
    }),
    checks: { postgres: () => pool.query('SELECT 1 FROM analytics_applied_events LIMIT 1') },
    close: () => pool.end(),
  });
  logger.info({ schema: config.ANALYTICS_DB_SCHEMA }, 'analytics started');
  return { port: app.port, joined: app.joined, stop: app.stop };
}

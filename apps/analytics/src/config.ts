import {
  APP_PORTS,
  DatabaseConfig,
  KafkaConfig,
  LoggingConfig,
  Type,
  metricsPort,
  type Static,
} from '@mailroom/config';

export const AnalyticsConfig = Type.Composite([
  LoggingConfig,
  KafkaConfig,
  DatabaseConfig,
  metricsPort(APP_PORTS.analytics),
  Type.Object({
    ANALYTICS_GROUP_ID: Type.String({ minLength: 1, default: 'analytics' }),
    /** The lifecycle topic to roll up (its .dlq takes what cannot be read). */
    ANALYTICS_EVENTS_TOPIC: Type.String({ minLength: 1, default: 'tickets.events' }),
    /** Partitions handled in parallel by one instance. */
    ANALYTICS_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 6 }),
    /** Records applied in one transaction (1: one by one). */
    ANALYTICS_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
    /** A new consumer group starts at the oldest record: the rollups cover the whole log. */
    ANALYTICS_FROM_BEGINNING: Type.Boolean({ default: true }),
    /**
     * Postgres schema of the rollup tables. A rebuild replays tickets.events into an
     * empty schema (with a new ANALYTICS_GROUP_ID), then the readers switch over.
     */
    ANALYTICS_DB_SCHEMA: Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$', default: 'public' }),
    /** Seconds a rollup read is reused by /metrics (scrapes of several Prometheus). */
    ANALYTICS_METRICS_CACHE_SECONDS: Type.Number({ minimum: 0, default: 1 }),
  }),
]);
export type AnalyticsConfig = Static<typeof AnalyticsConfig>;

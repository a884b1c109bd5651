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
    /** Partitions of a fetch handled at once (their chunks joined). */
    ANALYTICS_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 6 }),
    /** Records applied in one transaction (1: one by one). */
    ANALYTICS_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
    /**
     * Analytics is off the acknowledgement's path: its fetches wait for more (these
     * instead of KAFKA_FETCH_MAX_WAIT_MS / KAFKA_FETCH_MIN_BYTES), so it applies fewer,
     * larger chunks and leaves the CPU to the stages a requester waits for. Dashboards
     * trail by up to the wait.
     */
    ANALYTICS_FETCH_MAX_WAIT_MS: Type.Integer({ minimum: 0, maximum: 30_000, default: 1000 }),
    ANALYTICS_FETCH_MIN_BYTES: Type.Integer({ minimum: 1, default: 1_048_576 }),
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

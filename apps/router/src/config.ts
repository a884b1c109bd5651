import {
  APP_PORTS,
  DatabaseConfig,
  KafkaConfig,
  LoggingConfig,
  Type,
  metricsPort,
  type Static,
} from '@mailroom/config';

export const RouterConfig = Type.Composite([
  LoggingConfig,
  KafkaConfig,
  DatabaseConfig,
  metricsPort(APP_PORTS.router),
  Type.Object({
    ROUTER_GROUP_ID: Type.String({ minLength: 1, default: 'router' }),
    /** Where a new consumer group starts: the oldest record (never miss one) or the newest. */
    ROUTER_FROM_BEGINNING: Type.Boolean({ default: true }),
    /** Partitions handled in parallel by one instance. */
    ROUTER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 12 }),
    /** Records decided in one transaction (1: one by one). */
    ROUTER_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
    /** JSON routing rules (see rules.ts); empty = built-in (no overrides: the categorizer decides). */
    ROUTING_RULES_FILE: Type.String({ default: '' }),
    /** The same taxonomy file as the categorizer's; empty = the built-in taxonomy. */
    TAXONOMY_FILE: Type.String({ default: '' }),
    /** Where tickets go when no rule fires and the categorizer is not confident enough. */
    TRIAGE_DEPARTMENT: Type.String({ minLength: 1, default: 'General' }),
  }),
]);
export type RouterConfig = Static<typeof RouterConfig>;

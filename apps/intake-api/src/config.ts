import {
  APP_PORTS,
  DatabaseConfig,
  KafkaConfig,
  LoggingConfig,
  Type,
  type Static,
} from '@mailroom/config';

const defaultHealthUrls = Object.entries(APP_PORTS)
  .filter(([name]) => name !== 'intake-api')
  .map(([name, port]) => `${name}=http://127.0.0.1:${port}/health`)
  .join(',');

/** The one configuration object of intake-api, parsed once from the environment. */
export const IntakeConfigSchema = Type.Composite([
  LoggingConfig,
  KafkaConfig,
  DatabaseConfig,
  Type.Object({
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: APP_PORTS['intake-api'] }),
    HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
    /** Larger bodies are refused with 413 before they are parsed. */
    BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),
    /** Comma-separated origins allowed by CORS; empty: no cross-origin access, "*": any. */
    CORS_ORIGINS: Type.String({ default: '' }),
    /** Requests per minute and API key. */
    RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, default: 600 }),
    /** "name:scope+scope:key,..." upserted (hashed) into api_keys at start. */
    BOOTSTRAP_API_KEYS: Type.String({ default: '' }),
    /** Cap of ?wait=routed / Prefer: wait=N. */
    WAIT_MAX_SECONDS: Type.Integer({ minimum: 0, maximum: 120, default: 30 }),
    /** Seconds an API key lookup is cached in memory. */
    API_KEY_CACHE_SECONDS: Type.Integer({ minimum: 0, default: 30 }),
    /** "app=url,..." of the /health endpoints GET /api/health aggregates. */
    PIPELINE_HEALTH_URLS: Type.String({ default: defaultHealthUrls }),
    /** The taxonomy JSON (departments, categories, priorities); a default list if unset. */
    TAXONOMY_FILE: Type.String({ default: '' }),
    /** Produce batching: records per request, and linger of an idle producer. */
    PRODUCER_MAX_BATCH: Type.Integer({ minimum: 1, default: 500 }),
    PRODUCER_LINGER_MS: Type.Integer({ minimum: 0, default: 0 }),
    /**
     * Idempotent producers used side by side (a key always takes the same one). One lane
     * makes the biggest produce requests: the intake bench measured less CPU per ticket
     * (server and broker) and more tickets/s with 1 than with 2 or 4.
     */
    PRODUCER_LANES: Type.Integer({ minimum: 1, maximum: 16, default: 1 }),
    /**
     * Kafka client of the submit path: @platformatic/kafka (about half the CPU per record;
     * libs/kafka renews its producer id after a failed send, see fast-producer.ts), or
     * kafkajs, the client of every consumer.
     */
    PRODUCER_CLIENT: Type.Union([Type.Literal('platformatic'), Type.Literal('kafkajs')], {
      default: 'platformatic',
    }),
    SHUTDOWN_DEADLINE_MS: Type.Integer({ minimum: 1000, default: 20_000 }),
  }),
]);
export type IntakeConfig = Static<typeof IntakeConfigSchema>;

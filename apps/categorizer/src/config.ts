import {
  APP_PORTS,
  KafkaConfig,
  LoggingConfig,
  Type,
  metricsPort,
  type Static,
} from '@mailroom/config';

/** The knobs of the categorizer. Everything that builds a categorizer reads this subset. */
export const CategorizerModelConfig = Type.Object({
  /** Empty: the local model answers everything (the embedded default). */
  ANTHROPIC_API_KEY: Type.String({ default: '' }),
  ANTHROPIC_BASE_URL: Type.String({ minLength: 1, default: 'https://api.anthropic.com' }),
  /** Empty: the categorizer's default (a current Haiku-class model). */
  ANTHROPIC_MODEL: Type.String({ default: '' }),
  /** One HTTP attempt to the LLM. */
  LLM_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  /** The whole LLM call, retries included; then the local model answers. */
  LLM_DEADLINE_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  LLM_MAX_RETRIES: Type.Integer({ minimum: 0, maximum: 10, default: 3 }),
  LLM_MAX_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 8 }),
  /** Remove e-mail addresses, phone and card numbers before sending to the LLM. */
  LLM_REDACT: Type.Boolean({ default: true }),
  /** JSON taxonomy (departments, categories, priorities, localModel map); empty = built-in. */
  TAXONOMY_FILE: Type.String({ default: '' }),
  /** Model files of the local model; empty = the shipped models (libs/classifier/models). */
  LOCAL_MODEL_FILE: Type.String({ default: '' }),
  LOCAL_PRIORITY_MODEL_FILE: Type.String({ default: '' }),
  /** Where a ticket goes when the categorizer is not confident enough (needsReview). */
  CATEGORIZER_ABSTAIN_FALLBACK_DEPARTMENT: Type.String({ minLength: 1, default: 'General' }),
});
export type CategorizerModelConfig = Static<typeof CategorizerModelConfig>;

export const CategorizerConfig = Type.Composite([
  LoggingConfig,
  KafkaConfig,
  metricsPort(APP_PORTS.categorizer),
  CategorizerModelConfig,
  Type.Object({
    CATEGORIZER_GROUP_ID: Type.String({ minLength: 1, default: 'categorizer' }),
    /** Where a new consumer group starts: the oldest record (never miss one) or the newest. */
    CATEGORIZER_FROM_BEGINNING: Type.Boolean({ default: true }),
    /** Partitions handled in parallel by one instance. */
    CATEGORIZER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 6 }),
    /** Records categorized together and emitted in one produce (1: one by one). */
    CATEGORIZER_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
  }),
]);
export type CategorizerConfig = Static<typeof CategorizerConfig>;

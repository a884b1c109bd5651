import { Type } from '@sinclair/typebox';

// Config fragments that several apps share. An app composes its schema from these
// (Type.Composite) plus its own keys. Defaults equal deploy/local/stack.env.

const Port = (def: number) => Type.Integer({ minimum: 0, maximum: 65535, default: def });

export const LoggingConfig = Type.Object({
  LOG_LEVEL: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ],
    { default: 'info' },
  ),
});

export const KafkaConfig = Type.Object({
  /** Comma-separated host:port list. */
  KAFKA_BROKERS: Type.String({ minLength: 1, default: '127.0.0.1:19092' }),
  KAFKA_CLIENT_ID: Type.String({ minLength: 1, default: 'mailroom' }),
  /** Partitions of the topics the project creates (>= the instances of any consumer group). */
  KAFKA_TOPIC_PARTITIONS: Type.Integer({ minimum: 1, default: 6 }),
  /** 1 locally, 3 in production. */
  KAFKA_REPLICATION_FACTOR: Type.Integer({ minimum: 1, default: 1 }),
  /** A consumer's fetch returns once this many bytes wait (or after KAFKA_FETCH_MAX_WAIT_MS). */
  KAFKA_FETCH_MIN_BYTES: Type.Integer({ minimum: 1, default: 16_384 }),
  KAFKA_FETCH_MAX_WAIT_MS: Type.Integer({ minimum: 0, maximum: 10_000, default: 100 }),
  /** A consumer commits its handled offsets at most this often (and when idle, and at stop). */
  KAFKA_COMMIT_INTERVAL_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 1_000 }),
});

export const DatabaseConfig = Type.Object({
  DATABASE_URL: Type.String({
    minLength: 1,
    default: 'postgres://postgres@127.0.0.1:5432/mailroom',
  }),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, default: 10 }),
});

export const SmtpConfig = Type.Object({
  SMTP_HOST: Type.String({ default: '127.0.0.1' }),
  SMTP_PORT: Port(13025),
});

export const ImapConfig = Type.Object({
  IMAP_HOST: Type.String({ default: '127.0.0.1' }),
  IMAP_PORT: Port(13143),
});

/**
 * Address of the /metrics + /health + /ready server of an app: port 0 picks a free one;
 * the host is loopback locally, 0.0.0.0 in containers (probes and scrapes come from outside).
 */
export const metricsPort = (def: number) =>
  Type.Object({
    METRICS_PORT: Port(def),
    METRICS_HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  });

/** The default ports of the apps, as the local stack's Prometheus scrapes them. */
export const APP_PORTS = {
  'intake-api': 18080,
  'imap-poller': 19101,
  'ticket-store': 19102,
  categorizer: 19103,
  router: 19104,
  notifier: 19105,
  analytics: 19106,
} as const;

import {
  APP_PORTS,
  DatabaseConfig,
  KafkaConfig,
  LoggingConfig,
  SmtpConfig,
  Type,
  metricsPort,
  type Static,
} from '@mailroom/config';

/** Marked so that nobody mistakes it for a secret: refused when NODE_ENV=production. */
export const DEV_REPLY_TOKEN_SECRET = 'dev-only-insecure-reply-token-secret';

export const NotifierConfig = Type.Composite([
  LoggingConfig,
  KafkaConfig,
  DatabaseConfig,
  SmtpConfig,
  metricsPort(APP_PORTS.notifier),
  Type.Object({
    NODE_ENV: Type.String({ default: 'development' }),
    NOTIFIER_GROUP_ID: Type.String({ minLength: 1, default: 'notifier' }),
    /** Where a new consumer group starts: the oldest record (never miss one) or the newest. */
    NOTIFIER_FROM_BEGINNING: Type.Boolean({ default: true }),
    /** The lifecycle topic it consumes and emits to; tests give each notifier its own. */
    NOTIFIER_EVENTS_TOPIC: Type.String({ minLength: 1, default: 'tickets.events' }),
    /** Partitions handled in parallel. */
    NOTIFIER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 6 }),
    /** Consumers of the group in one notifier process, each with its share of the partitions (see README). */
    NOTIFIER_CONSUMERS: Type.Integer({ minimum: 1, maximum: 16, default: 2 }),
    /** Records of one partition handled together: one transaction, their mails sent side by side, one produce. */
    NOTIFIER_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 5000, default: 200 }),
    /** How long the group waits for a silent instance (e.g. killed) before it reassigns its partitions. */
    NOTIFIER_SESSION_TIMEOUT_MS: Type.Integer({ minimum: 6_000, default: 30_000 }),
    SMTP_USER: Type.String({ default: '' }),
    SMTP_PASSWORD: Type.String({ default: '' }),
    /** Implicit TLS (port 465); otherwise STARTTLS when the server offers it. */
    SMTP_SECURE: Type.Boolean({ default: false }),
    /** Pooled SMTP connections; twice as many mails are in flight (each holds a Postgres connection). */
    SMTP_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    /** Connect/greeting/socket timeout of one SMTP attempt. */
    SMTP_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
    SUPPORT_ADDRESS: Type.String({
      pattern: '^[^@\\s]+@[^@\\s]+$',
      default: 'support@example.test',
    }),
    SUPPORT_NAME: Type.String({ default: 'Support' }),
    /** Right-hand side of our Message-IDs; the imap-poller recognizes our own mail by it. */
    MAIL_MESSAGE_ID_DOMAIN: Type.String({
      minLength: 1,
      pattern: '^[A-Za-z0-9.-]+$',
      default: 'mailroom.example.test',
    }),
    /** HMAC key of the reply token in Reply-To; the same value where replies are threaded. */
    REPLY_TOKEN_SECRET: Type.String({ minLength: 16, default: DEV_REPLY_TOKEN_SECRET }),
    /** Base of the status link in the mails. */
    PUBLIC_URL: Type.String({ minLength: 1, default: 'http://127.0.0.1:18080' }),
    /** Directory of the mail templates; empty = apps/notifier/templates. */
    TEMPLATES_DIR: Type.String({ default: '' }),
    /** Acknowledgements per requester address per hour; the rest are recorded, not sent. */
    ACK_RATE_LIMIT_PER_HOUR: Type.Integer({ minimum: 0, default: 5 }),
  }),
]);
export type NotifierConfig = Static<typeof NotifierConfig>;

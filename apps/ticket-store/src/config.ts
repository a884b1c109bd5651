import {
  DatabaseConfig,
  KafkaConfig,
  LoggingConfig,
  Type,
  metricsPort,
  APP_PORTS,
  type Static,
} from '@mailroom/config';

export const TicketStoreConfig = Type.Composite([
  LoggingConfig,
  KafkaConfig,
  DatabaseConfig,
  metricsPort(APP_PORTS['ticket-store']),
  Type.Object({
    TICKET_STORE_GROUP_ID: Type.String({ minLength: 1, default: 'ticket-store' }),
    /** Partitions handled in parallel by one instance. */
    TICKET_STORE_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 18 }),
    /** Records applied in one transaction (1: one by one). */
    TICKET_STORE_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
    /** Where a new consumer group starts: the oldest record (never miss one) or the newest. */
    TICKET_STORE_FROM_BEGINNING: Type.Boolean({ default: true }),
    /**
     * HMAC key(s) of the reply token (the notifier's REPLY_TOKEN_SECRET); comma-separated
     * during a rotation, current first. The default is for local runs only.
     */
    REPLY_TOKEN_SECRET: Type.String({
      minLength: 16,
      default: 'dev-only-insecure-reply-token-secret',
    }),
    /** Agents by email: addresses and `@domain`s, comma-separated. They may set any status. */
    AGENT_ADDRESSES: Type.String({ default: '' }),
    /** Accept `#status` commands only from senders with an aligned DKIM/SPF/DMARC pass. */
    REQUIRE_MAIL_AUTH: Type.Boolean({ default: false }),
  }),
]);
export type TicketStoreConfig = Static<typeof TicketStoreConfig>;

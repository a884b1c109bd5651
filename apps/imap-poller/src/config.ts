import {
  APP_PORTS,
  DatabaseConfig,
  ImapConfig,
  KafkaConfig,
  LoggingConfig,
  Type,
  metricsPort,
  type Static,
} from '@mailroom/config';

export const ImapPollerConfig = Type.Composite([
  LoggingConfig,
  KafkaConfig,
  DatabaseConfig,
  ImapConfig,
  metricsPort(APP_PORTS['imap-poller']),
  Type.Object({
    /** JSON list of mailboxes (see MailboxSpec); when set, the single-mailbox IMAP_* vars are ignored. */
    IMAP_MAILBOXES: Type.Optional(Type.String({ minLength: 2 })),
    IMAP_SECURE: Type.Boolean({ default: false }),
    IMAP_USER: Type.String({ minLength: 1, default: 'support@example.test' }),
    IMAP_PASSWORD: Type.Optional(Type.String()),
    /** OAuth2 access token (XOAUTH2) instead of a password. */
    IMAP_ACCESS_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
    IMAP_FOLDER: Type.String({ minLength: 1, default: 'INBOX' }),
    /** Move ingested mail here (after Kafka acked it); unset = leave it in the folder. */
    IMAP_PROCESSED_FOLDER: Type.Optional(Type.String({ minLength: 1 })),
    /** Flag ingested mail \Seen (after Kafka acked it). Never used as state. */
    IMAP_MARK_SEEN: Type.Boolean({ default: true }),
    /** Fallback poll for servers that drop IDLE or lack it. */
    IMAP_POLL_INTERVAL_MS: Type.Integer({ minimum: 100, default: 60_000 }),
    /** Messages per produce + checkpoint step (at most; fewer while mail trickles in). */
    IMAP_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 5_000, default: 250 }),
    /** Messages per IMAP FETCH command (streamed); \Seen and the move once per window. */
    IMAP_FETCH_WINDOW: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000 }),
    /**
     * Who reads the window's bulk FETCH: `own` (a second IMAP connection with a
     * streaming reader of the FETCH responses) or `imapflow` (its fetch on the
     * mailbox's connection). Everything else is imapflow's either way.
     */
    IMAP_FETCH_READER: Type.Union([Type.Literal('own'), Type.Literal('imapflow')], {
      default: 'own',
    }),
    /** Larger mail is not parsed whole: a ticket with a note, or a dead letter (IMAP_OVERSIZED). */
    IMAP_MAX_MESSAGE_BYTES: Type.Integer({ minimum: 1024, default: 50 * 1024 * 1024 }),
    IMAP_OVERSIZED: Type.Union([Type.Literal('ticket'), Type.Literal('dlq')], {
      default: 'ticket',
    }),
    IMAP_RECONNECT_MAX_MS: Type.Integer({ minimum: 100, default: 60_000 }),
    /**
     * Kafka client of tickets.raw: @platformatic/kafka (about half the CPU per record;
     * after a failed send it resends on a new producer id, see fast-producer.ts) or
     * kafkajs (one request in flight, resends what it answered without sending).
     */
    PRODUCER_CLIENT: Type.Union([Type.Literal('platformatic'), Type.Literal('kafkajs')], {
      default: 'platformatic',
    }),
    /** Our own addresses (and `@domain`s), comma-separated: mail from them is a loop. */
    MAIL_OUR_ADDRESSES: Type.String({ default: '' }),
    /** Domain of the Message-IDs of our outbound mail; mail carrying one is our own. */
    MAIL_MESSAGE_ID_DOMAIN: Type.Optional(Type.String({ minLength: 1 })),
  }),
]);
export type ImapPollerConfig = Static<typeof ImapPollerConfig>;

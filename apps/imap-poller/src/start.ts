import { createPool } from '@mailroom/db';
import { ALL_TOPICS } from '@mailroom/events';
import {
  topicSpecs,
  createKafka,
  createFastProducer,
  createProducer,
  ensureTopics,
  parseBrokers,
} from '@mailroom/kafka';
import {
  createLogger,
  createMetricsRegistry,
  startOpsServer,
  type Logger,
  type ReadinessCheck,
} from '@mailroom/observability';
import { createPgBlobStore, type BlobStore } from './blob-store.js';
import { createPgCheckpointStore } from './checkpoint-store.js';
import { warmUp } from './ingest-message.js';
import type { ImapPollerConfig } from './config.js';
import { startMailboxWorker, type MailboxState } from './mailbox-worker.js';
import { mailboxesFromConfig } from './mailboxes.js';
import { pollerMetrics } from './metrics.js';

export interface StartOptions {
  logger?: Logger;
  /** Another blob store than the Postgres one (the interface is the seam). */
  blobs?: BlobStore;
}

export interface ImapPoller {
  port: number;
  /** Per-mailbox connection state (also in /ready and the mailroom_imap_* metrics). */
  mailboxes(): MailboxState[];
  stop(): Promise<void>;
}

/** imap-poller: IMAP mailboxes → tickets.raw (DESIGN.md, "Flow"). */
export async function start(
  config: ImapPollerConfig,
  options: StartOptions = {},
): Promise<ImapPoller> {
  const logger = options.logger ?? createLogger({ name: 'imap-poller', level: config.LOG_LEVEL });
  const specs = mailboxesFromConfig(config);
  const registry = createMetricsRegistry('imap-poller');
  const metrics = pollerMetrics(registry);
  const pool = createPool({
    url: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: 'imap-poller',
    onIdleError: (err) => logger.warn({ err }, 'idle postgres client failed'),
  });
  const kafka = createKafka({
    brokers: parseBrokers(config.KAFKA_BROKERS),
    clientId: 'imap-poller',
    logger,
  });
  await ensureTopics(kafka, topicSpecs(ALL_TOPICS, config));
  // @platformatic/kafka: half the CPU per record of kafkajs; after a failed send it
  // resends the same records on a new producer id (at least once, like a re-scan).
  // Either way a send resolves only once Kafka acked every record (acks=all).
  const producer =
    config.PRODUCER_CLIENT === 'platformatic'
      ? await createFastProducer({
          brokers: parseBrokers(config.KAFKA_BROKERS),
          clientId: `${config.KAFKA_CLIENT_ID}-imap-poller`,
          logger,
        })
      : await createProducer(kafka);
  const blobs = options.blobs ?? createPgBlobStore(pool);
  const checkpoints = createPgCheckpointStore(pool);
  const ourAddresses = [
    ...specs.map((s) => s.user.toLowerCase()).filter((u) => u.includes('@')),
    ...config.MAIL_OUR_ADDRESSES.split(',')
      .map((a) => a.trim())
      .filter(Boolean),
  ];
  const ingest = {
    blobs,
    automated: {
      ourAddresses,
      ...(config.MAIL_MESSAGE_ID_DOMAIN
        ? { ourMessageIdDomain: config.MAIL_MESSAGE_ID_DOMAIN }
        : {}),
    },
  };
  await warmUp(ingest);
  const workers = specs.map((spec) =>
    startMailboxWorker({
      spec,
      checkpoints,
      logger,
      batchSize: config.IMAP_BATCH_SIZE,
      fetchWindow: config.IMAP_FETCH_WINDOW,
      fetchReader: config.IMAP_FETCH_READER,
      pollIntervalMs: config.IMAP_POLL_INTERVAL_MS,
      reconnectMaxMs: config.IMAP_RECONNECT_MAX_MS,
      markSeen: config.IMAP_MARK_SEEN,
      batch: {
        pool,
        blobs,
        producer,
        metrics,
        maxMessageBytes: config.IMAP_MAX_MESSAGE_BYTES,
        oversized: config.IMAP_OVERSIZED,
        ingest,
      },
    }),
  );
  const mailboxChecks: Record<string, ReadinessCheck> = Object.fromEntries(
    workers.map((w) => [
      `imap:${w.state().mailbox}`,
      async () => {
        const s = w.state();
        if (!s.connected) {
          const why = s.error
            ? `${s.error.code}: ${s.error.message} at ${s.error.at}`
            : 'connecting';
          throw new Error(`disconnected (${why}); last fetch ${s.lastFetchAt ?? 'never'}`);
        }
        return s;
      },
    ]),
  );
  const ops = await startOpsServer({
    port: config.METRICS_PORT,
    host: config.METRICS_HOST,
    registry,
    logger,
    checks: {
      postgres: () => pool.query('select 1'),
      ...mailboxChecks,
    },
  });
  logger.info({ mailboxes: specs.map((s) => s.name) }, 'imap-poller started');
  return {
    port: ops.port,
    mailboxes: () => workers.map((w) => w.state()),
    stop: async () => {
      // Workers first: the batch in hand reaches Kafka and its checkpoint lands.
      await Promise.all(workers.map((w) => w.stop()));
      await producer.disconnect();
      await ops.close();
      await pool.end();
    },
  };
}

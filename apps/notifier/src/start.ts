import { ConfigError } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import { ALL_TOPICS, decodeEvent, encodeEvent, type Envelope } from '@mailroom/events';
import {
  createKafka,
  createProducer,
  dlqTopicOf,
  ensureTopics,
  parseBrokers,
  runConsumer,
  type MailroomProducer,
} from '@mailroom/kafka';
import { composeMail, type MailTemplate } from '@mailroom/mail';
import {
  createLogger,
  createMetricsRegistry,
  startOpsServer,
  type Logger,
} from '@mailroom/observability';
import { DEV_REPLY_TOKEN_SECRET, type NotifierConfig } from './config.js';
import { handleNotifierRecord, type NotifierHandlerDeps } from './handle-events.js';
import { createMailer, type Mailer } from './mailer.js';
import { createNotifierMetrics } from './notifier-metrics.js';
import type { OutboxRow } from './outbox.js';
import { loadTemplates, type TemplateName } from './templates.js';

export interface StartOptions {
  logger?: Logger;
}

const HANDLED = new Set([
  'ticket.created',
  'ticket.routed',
  'ticket.rerouted',
  'ticket.status_changed',
]);

async function emit(producer: MailroomProducer, topic: string, events: Envelope[], trace?: string) {
  if (events.length === 0) return;
  await producer.send(
    topic,
    events.map((e) => encodeEvent(e, e.ticketId ?? e.id, trace)),
  );
}

/** Renders an outbox row with its template into the mail nodemailer sends. */
export function outboxComposer(
  config: NotifierConfig,
  templates: Map<TemplateName, MailTemplate>,
): (row: OutboxRow) => ReturnType<typeof composeMail> {
  return (row) => {
    const template = templates.get(row.template);
    if (!template) throw new Error(`no template ${row.template}`);
    return composeMail({
      template,
      values: row.params.values,
      ticketId: row.ticket_id,
      ticketNumber: row.params.number,
      to: { email: row.to_address, name: row.params.toName },
      support: { address: config.SUPPORT_ADDRESS, name: config.SUPPORT_NAME },
      replyTokenSecret: config.REPLY_TOKEN_SECRET,
      messageId: row.message_id,
      inReplyTo: row.params.inReplyTo,
    });
  };
}

/** notifier: acknowledgements and status mails through an idempotent outbox. */
export async function start(
  config: NotifierConfig,
  options: StartOptions & { mailer?: Mailer } = {},
) {
  const logger = options.logger ?? createLogger({ name: 'notifier', level: config.LOG_LEVEL });
  if (config.NODE_ENV === 'production' && config.REPLY_TOKEN_SECRET === DEV_REPLY_TOKEN_SECRET) {
    throw new ConfigError(['REPLY_TOKEN_SECRET: must be set in production (got the dev default)']);
  }
  if (config.REPLY_TOKEN_SECRET === DEV_REPLY_TOKEN_SECRET) {
    logger.warn('REPLY_TOKEN_SECRET is the development default: set it outside development');
  }
  const templates = await loadTemplates(config.TEMPLATES_DIR);
  const registry = createMetricsRegistry('notifier');
  const pool = createPool({
    url: config.DATABASE_URL,
    max: Math.max(config.DATABASE_POOL_MAX, config.NOTIFIER_CONCURRENCY * 2),
    applicationName: 'notifier',
    onIdleError: (err) => logger.warn({ err }, 'idle postgres client failed'),
  });
  const metrics = createNotifierMetrics(registry, pool);
  const mailer =
    options.mailer ??
    createMailer({
      host: config.SMTP_HOST,
      port: config.SMTP_PORT,
      secure: config.SMTP_SECURE,
      user: config.SMTP_USER,
      password: config.SMTP_PASSWORD,
      poolSize: config.SMTP_POOL_SIZE,
      timeoutMs: config.SMTP_TIMEOUT_MS,
    });
  const deps: NotifierHandlerDeps = {
    pool,
    mailer,
    metrics,
    compose: outboxComposer(config, templates),
    publicUrl: config.PUBLIC_URL,
    policy: {
      ownAddresses: [config.SUPPORT_ADDRESS],
      messageIdDomain: config.MAIL_MESSAGE_ID_DOMAIN,
      ackLimitPerHour: config.ACK_RATE_LIMIT_PER_HOUR,
    },
  };
  const kafka = createKafka({
    brokers: parseBrokers(config.KAFKA_BROKERS),
    clientId: `${config.KAFKA_CLIENT_ID}-notifier`,
    logger,
  });
  const source = config.NOTIFIER_EVENTS_TOPIC;
  await ensureTopics(
    kafka,
    [...new Set([...ALL_TOPICS, source, dlqTopicOf(source)])].map((topic) => ({
      topic,
      partitions: config.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
    })),
  );
  const producer = await createProducer(kafka);
  const consumer = await runConsumer({
    kafka,
    producer,
    logger,
    registry,
    groupId: config.NOTIFIER_GROUP_ID,
    topics: [source],
    partitionsConsumedConcurrently: config.NOTIFIER_CONCURRENCY,
    fromBeginning: config.NOTIFIER_FROM_BEGINNING,
    sessionTimeoutMs: config.NOTIFIER_SESSION_TIMEOUT_MS,
    // An SMTP outage retries without limit; the backoff caps at 30 s per partition.
    backoffMaxMs: 30_000,
    handler: async (record) => {
      const type = record.headers['event-type'];
      if (type && !HANDLED.has(type)) return;
      const event = decodeEvent(record.value);
      const facts = await handleNotifierRecord(deps, event);
      await emit(producer, source, facts, record.headers.traceparent);
    },
  });
  const ops = await startOpsServer({
    port: config.METRICS_PORT,
    host: config.METRICS_HOST,
    registry,
    logger,
    checks: { postgres: () => pool.query('select 1') },
  });
  logger.info(
    { smtp: `${config.SMTP_HOST}:${config.SMTP_PORT}`, templates: [...templates.keys()] },
    'notifier started',
  );
  return {
    port: ops.port,
    joined: consumer.joined,
    stop: async () => {
      // The consumer lets the mail in hand finish (and be marked) before it stops.
      await consumer.stop();
      await producer.disconnect();
      mailer.close();
      await ops.close();
      await pool.end();
    },
  };
}

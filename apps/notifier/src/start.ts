import { ConfigError } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import { ALL_TOPICS, decodeEvent, encodeEvent, type Envelope } from '@mailroom/events';
import {
  dlqTopicOf,
  startConsumerApp,
  type ConsumedRecord,
  type MailroomProducer,
} from '@mailroom/kafka';
import { composeMail, type MailTemplate } from '@mailroom/mail';
import { createLogger, createMetricsRegistry, type Logger } from '@mailroom/observability';
import { DEV_REPLY_TOKEN_SECRET, type NotifierConfig } from './config.js';
import { handleNotifierEvents, type NotifierHandlerDeps } from './handle-events.js';
import { createMailer, type Mailer } from './mailer.js';
import { createNotifierMetrics } from './notifier-metrics.js';
import type { OutboxRow } from './outbox.js';
import { createSender } from './sender.js';
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

/** The handled events of these records; other types are skipped by header, unparsed. */
function decodeHandled(records: ConsumedRecord[]) {
  const out: { event: Envelope; trace?: string | undefined }[] = [];
  for (const record of records) {
    const type = record.headers['event-type'];
    if (type && !HANDLED.has(type)) continue;
    const event = decodeEvent(record.value);
    if (HANDLED.has(event.type)) out.push({ event, trace: record.headers.traceparent });
  }
  return out;
}

async function emit(
  producer: MailroomProducer,
  topic: string,
  events: { event: Envelope; trace?: string | undefined }[],
) {
  if (events.length === 0) return;
  await producer.send(
    topic,
    events.map(({ event, trace }) => encodeEvent(event, event.ticketId ?? event.id, trace)),
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

/** Mails in flight at once: two per SMTP connection, so none waits for Postgres. */
export const sendLanes = (config: NotifierConfig) => config.SMTP_POOL_SIZE * 2;

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
    // A connection per send lane, one per partition in hand, and a few for /ready and metrics.
    max: Math.max(
      config.DATABASE_POOL_MAX,
      sendLanes(config) + config.NOTIFIER_CONCURRENCY * config.NOTIFIER_CONSUMERS + 2,
    ),
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
    metrics,
    sender: createSender({
      pool,
      mailer,
      metrics,
      compose: outboxComposer(config, templates),
      lanes: sendLanes(config),
    }),
    publicUrl: config.PUBLIC_URL,
    policy: {
      ownAddresses: [config.SUPPORT_ADDRESS],
      messageIdDomain: config.MAIL_MESSAGE_ID_DOMAIN,
      ackLimitPerHour: config.ACK_RATE_LIMIT_PER_HOUR,
    },
  };
  const source = config.NOTIFIER_EVENTS_TOPIC;
  const app = await startConsumerApp({
    name: 'notifier',
    config,
    logger,
    registry,
    topics: [...ALL_TOPICS, source, dlqTopicOf(source)],
    consumers: config.NOTIFIER_CONSUMERS,
    consume: (producer) => {
      const handle = async (records: ConsumedRecord[]) => {
        const events = decodeHandled(records);
        if (events.length > 0)
          await emit(producer, source, await handleNotifierEvents(deps, events));
      };
      return {
        groupId: config.NOTIFIER_GROUP_ID,
        topics: [source],
        partitionsConsumedConcurrently: config.NOTIFIER_CONCURRENCY,
        fromBeginning: config.NOTIFIER_FROM_BEGINNING,
        sessionTimeoutMs: config.NOTIFIER_SESSION_TIMEOUT_MS,
        // An SMTP outage retries without limit; the backoff caps at 30 s per partition.
        backoffMaxMs: 30_000,
        maxChunk: config.NOTIFIER_BATCH_SIZE,
        batchHandler: handle,
        handler: (record) => handle([record]),
      };
    },
    checks: { postgres: () => pool.query('select 1') },
    // The consumer lets the mail in hand finish (and be marked) before it stops.
    close: async () => {
      mailer.close();
      await pool.end();
    },
  });
  logger.info(
    { smtp: `${config.SMTP_HOST}:${config.SMTP_PORT}`, templates: [...templates.keys()] },
    'notifier started',
  );
  return { port: app.port, joined: app.joined, stop: app.stop };
}

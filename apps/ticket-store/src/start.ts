import { createPool } from '@mailroom/db';
import { ALL_TOPICS, TOPICS, decodeEvent, type Envelope } from '@mailroom/events';
import { startConsumerApp, type ConsumedRecord } from '@mailroom/kafka';
import { createLogger, createMetricsRegistry, type Logger } from '@mailroom/observability';
import type pg from 'pg';
import type { TicketStoreConfig } from './config.js';
import { emit } from './emit.js';
import { applyLifecycle } from './apply-lifecycle.js';
import { handleEmail, emailOptionsFromConfig, type EmailOptions } from './handle-email.js';
import { handleSubmission } from './handle-submission.js';
import { createBatchHandler, isIgnored } from './handle-batch.js';
import { handleUpdateCommand } from './handle-command.js';

export interface StartOptions {
  logger?: Logger;
}

/** Decides what a record means for the ticket state; returns the facts to emit. */
export async function handleRecord(
  pool: pg.Pool,
  event: Envelope,
  email?: EmailOptions,
): Promise<Envelope[]> {
  switch (event.type) {
    case 'raw.api_submission':
      return handleSubmission(pool, event.payload as Envelope<'raw.api_submission'>['payload']);
    case 'raw.email_received':
      return handleEmail(pool, event.payload as Envelope<'raw.email_received'>['payload'], email);
    case 'command.update_ticket':
      if (!event.ticketId) return [];
      return handleUpdateCommand(
        pool,
        event.ticketId,
        event.payload as Envelope<'command.update_ticket'>['payload'],
      );
    case 'command.route_ticket':
      return []; // the router applies routing commands
    default:
      await applyLifecycle(pool, event);
      return [];
  }
}

/** ticket-store: the only writer of ticket state (DESIGN.md). */
export async function start(config: TicketStoreConfig, options: StartOptions = {}) {
  const logger = options.logger ?? createLogger({ name: 'ticket-store', level: config.LOG_LEVEL });
  const registry = createMetricsRegistry('ticket-store');
  const emailOptions = emailOptionsFromConfig(config);
  const pool = createPool({
    url: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: 'ticket-store',
    onIdleError: (err) => logger.warn({ err }, 'idle postgres client failed'),
  });
  const app = await startConsumerApp({
    name: 'ticket-store',
    config,
    logger,
    registry,
    topics: ALL_TOPICS,
    consume: (producer) => ({
      groupId: config.TICKET_STORE_GROUP_ID,
      topics: [TOPICS.raw, TOPICS.commands, TOPICS.events],
      partitionsConsumedConcurrently: config.TICKET_STORE_CONCURRENCY,
      fromBeginning: config.TICKET_STORE_FROM_BEGINNING,
      maxChunk: config.TICKET_STORE_BATCH_SIZE,
      batchHandler: createBatchHandler(pool, producer, (event) =>
        handleRecord(pool, event, emailOptions),
      ),
      handler: async (record: ConsumedRecord) => {
        if (isIgnored(record)) return;
        const event = decodeEvent(record.value);
        const facts = await handleRecord(pool, event, emailOptions);
        await emit(producer, facts, record.headers.traceparent);
      },
    }),
    checks: { postgres: () => pool.query('select 1') },
    close: () => pool.end(),
  });
  logger.info('ticket-store started');
  return { port: app.port, joined: app.joined, stop: app.stop };
}

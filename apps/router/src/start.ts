import type pg from 'pg';
import { DEFAULT_TAXONOMY, loadTaxonomyFile, type Taxonomy } from '@mailroom/categorizer';
import { createPool } from '@mailroom/db';
import {
  ALL_TOPICS,
  TOPICS,
  decodeEvent,
  encodeEvent,
  type Envelope,
  type RouteTicket,
} from '@mailroom/events';
import {
  dlqTopicOf,
  permanentError,
  startConsumerApp,
  type MailroomProducer,
} from '@mailroom/kafka';
import { createLogger, createMetricsRegistry, type Logger } from '@mailroom/observability';
import type { RouterConfig } from './config.js';
import type { RoutingContext } from './decide.js';
import { createRouterBatchHandler, isForRouter } from './handle-batch.js';
import { handleRouteCommand } from './handle-route-command.js';
import { rememberTicket, routeCategorized } from './handle-ticket-events.js';
import { createRouterMetrics, type RouterMetrics } from './router-metrics.js';
import { loadRoutingRules } from './rules.js';

export interface StartOptions {
  logger?: Logger;
  /** Topics to consume and emit to (default tickets.events + tickets.commands); tests isolate with their own. */
  topics?: { events: string; commands: string };
}

/** What one record means for the router; returns the events to emit after the commit. */
export async function handleRouterRecord(
  pool: pg.Pool,
  ctx: RoutingContext,
  metrics: RouterMetrics,
  event: Envelope,
): Promise<Envelope[]> {
  switch (event.type) {
    case 'ticket.created':
      await rememberTicket(pool, event as Envelope<'ticket.created'>);
      return [];
    case 'ticket.categorized':
      return routeCategorized(pool, ctx, metrics, event as Envelope<'ticket.categorized'>);
    case 'command.route_ticket':
      if (!event.ticketId)
        throw permanentError('TICKET_ID_MISSING', 'route command without ticketId');
      return handleRouteCommand(
        pool,
        ctx.taxonomy,
        metrics,
        event.ticketId,
        event.payload as RouteTicket,
      );
    default:
      return [];
  }
}

async function emit(producer: MailroomProducer, topic: string, events: Envelope[], trace?: string) {
  if (events.length === 0) return;
  await producer.send(
    topic,
    events.map((e) => encodeEvent(e, e.ticketId ?? e.id, trace)),
  );
}

/** router: ticket.categorized and route commands → ticket.routed / ticket.rerouted. */
export async function start(config: RouterConfig, options: StartOptions = {}) {
  const logger = options.logger ?? createLogger({ name: 'router', level: config.LOG_LEVEL });
  // Rules and taxonomy fail fast, before joining the group.
  const taxonomy: Taxonomy = config.TAXONOMY_FILE
    ? await loadTaxonomyFile(config.TAXONOMY_FILE)
    : DEFAULT_TAXONOMY;
  const rules = await loadRoutingRules(
    config.ROUTING_RULES_FILE,
    taxonomy,
    config.TRIAGE_DEPARTMENT,
  );
  const ctx: RoutingContext = { rules, taxonomy, triageDepartment: config.TRIAGE_DEPARTMENT };
  const registry = createMetricsRegistry('router');
  const metrics = createRouterMetrics(registry);
  const pool = createPool({
    url: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: 'router',
    onIdleError: (err) => logger.warn({ err }, 'idle postgres client failed'),
  });
  const sources = options.topics ?? { events: TOPICS.events, commands: TOPICS.commands };
  const inputs = [sources.events, sources.commands];
  const app = await startConsumerApp({
    name: 'router',
    config,
    logger,
    registry,
    topics: [...ALL_TOPICS, ...inputs, ...inputs.map(dlqTopicOf)],
    consume: (producer) => ({
      groupId: config.ROUTER_GROUP_ID,
      topics: inputs,
      partitionsConsumedConcurrently: config.ROUTER_CONCURRENCY,
      fromBeginning: config.ROUTER_FROM_BEGINNING,
      maxChunk: config.ROUTER_BATCH_SIZE,
      batchHandler: createRouterBatchHandler({
        pool,
        ctx,
        metrics,
        producer,
        eventsTopic: sources.events,
        handleOne: (event) => handleRouterRecord(pool, ctx, metrics, event),
      }),
      handler: async (record) => {
        // Most records on these topics are not for the router: skip them unparsed.
        if (!isForRouter(record)) return;
        const event = decodeEvent(record.value);
        const facts = await handleRouterRecord(pool, ctx, metrics, event);
        await emit(producer, sources.events, facts, record.headers.traceparent);
      },
    }),
    checks: { postgres: () => pool.query('select 1') },
    close: () => pool.end(),
  });
  logger.info(
    { rules: rules.version, taxonomy: taxonomy.version, triage: config.TRIAGE_DEPARTMENT },
    'router started',
  );
  return { port: app.port, joined: app.joined, stop: app.stop };
}

import type pg from 'pg';
import { withTransaction } from '@mailroom/db';
import { decodeEvent, encodeEvent, type Envelope } from '@mailroom/events';
import type { BatchHandler, ConsumedRecord, MailroomProducer } from '@mailroom/kafka';
import type { RoutingContext } from './decide.js';
import {
  checkKnown,
  countDecision,
  decideRouted,
  rememberTickets,
  routedEventId,
  type TicketRow,
} from './handle-ticket-events.js';
import type { RouterMetrics } from './router-metrics.js';

/** The record types the router acts on; everything else on its topics is skipped unparsed. */
export const ROUTER_TYPES: ReadonlySet<string> = new Set([
  'ticket.created',
  'ticket.categorized',
  'command.route_ticket',
]);

export const isForRouter = (record: ConsumedRecord): boolean => {
  const type = record.headers['event-type'];
  return !type || ROUTER_TYPES.has(type);
};

export interface RouterBatchDeps {
  pool: pg.Pool;
  ctx: RoutingContext;
  metrics: RouterMetrics;
  producer: MailroomProducer;
  eventsTopic: string;
  /** The single-record path, for route commands (their own transaction each). */
  handleOne: (event: Envelope) => Promise<Envelope[]>;
}

/**
 * ticket.categorized of a chunk → routing decisions, with the statements of routeCategorized
 * made set-based: one read of the decisions already taken, one locked read of the tickets,
 * the decisions in record order in memory, one insert into routing_history, one update of
 * router_tickets. A redelivered categorization returns its stored event, as one by one.
 */
async function routeAll(
  db: pg.ClientBase,
  ctx: RoutingContext,
  categorized: Envelope<'ticket.categorized'>[],
): Promise<{ events: Envelope[]; decided: Envelope<'ticket.routed'>[]; skipped: number }> {
  const out = { events: [] as Envelope[], decided: [] as Envelope<'ticket.routed'>[], skipped: 0 };
  if (categorized.length === 0) return out;
  const ids = categorized.map(routedEventId);
  const done = new Map(
    (
      await db.query<{ event_id: string; event: Envelope | null }>(
        'SELECT event_id, event FROM routing_history WHERE event_id = ANY($1::uuid[])',
        [ids],
      )
    ).rows.map((r) => [r.event_id, r.event]),
  );
  const ticketIds = [...new Set(categorized.map((e) => e.ticketId!))].sort();
  const tickets = new Map(
    (
      await db.query<TicketRow & { ticket_id: string }>(
        'SELECT * FROM router_tickets WHERE ticket_id = ANY($1::uuid[]) ORDER BY ticket_id FOR UPDATE',
        [ticketIds],
      )
    ).rows.map((r) => [r.ticket_id, r]),
  );
  const history: Record<string, unknown>[] = [];
  for (const [i, e] of categorized.entries()) {
    const stored = done.get(ids[i]!);
    if (stored !== undefined) {
      if (stored) out.events.push(stored);
      continue;
    }
    const t = checkKnown(e.ticketId!, tickets.get(e.ticketId!));
    if (t.routed_at) {
      out.skipped++;
      continue;
    }
    const { event, confidence } = decideRouted(ctx, e, t);
    const p = event.payload;
    // The next categorization of this ticket in the chunk sees it routed.
    Object.assign(t, {
      department: p.department,
      priority: p.priority,
      routed_at: new Date(event.occurredAt),
    });
    history.push({
      event_id: event.id,
      ticket_id: event.ticketId,
      department: p.department,
      rule: p.rule,
      confidence: confidence ?? null,
      decided_by: p.decidedBy,
      priority: p.priority,
      event,
      at: event.occurredAt,
    });
    out.events.push(event);
    out.decided.push(event);
  }
  if (history.length === 0) return out;
  await db.query(
    `INSERT INTO routing_history (event_id, ticket_id, department, kind, rule, confidence, decided_by, priority, event, at)
     SELECT event_id, ticket_id, department, 'routed', rule, confidence, decided_by, priority, event, at
     FROM json_to_recordset($1::json) AS x(event_id uuid, ticket_id uuid, department text, rule text,
       confidence double precision, decided_by text, priority text, event jsonb, at timestamptz)
     ON CONFLICT (event_id) DO NOTHING`,
    [JSON.stringify(history)],
  );
  await db.query(
    `UPDATE router_tickets t SET department = x.department, priority = x.priority, routed_at = x.at
     FROM json_to_recordset($1::json) AS x(ticket_id uuid, department text, priority text, at timestamptz)
     WHERE t.ticket_id = x.ticket_id`,
    [JSON.stringify(history)],
  );
  return out;
}

/**
 * The router's fast path: a chunk's ticket.created and ticket.categorized records in ONE
 * transaction (created first: a ticket's created precedes its categorization on the
 * partition), route commands one by one after it (they come from another topic, so never
 * share a chunk with those), and every resulting event in one produce after the commit.
 */
export function createRouterBatchHandler(deps: RouterBatchDeps): BatchHandler {
  return async (records) => {
    const mine = records.filter(isForRouter);
    const events = mine.map((r) => decodeEvent(r.value));
    const trace = new Map<string, string | undefined>();
    events.forEach((e, i) => trace.set(e.id, mine[i]!.headers.traceparent));
    const created = events.filter(
      (e) => e.type === 'ticket.created',
    ) as Envelope<'ticket.created'>[];
    const categorized = events.filter(
      (e) => e.type === 'ticket.categorized',
    ) as Envelope<'ticket.categorized'>[];
    const facts: { event: Envelope; trace: string | undefined }[] = [];
    if (created.length + categorized.length > 0) {
      const routed = await withTransaction(deps.pool, async (db) => {
        await rememberTickets(db, created);
        return routeAll(db, deps.ctx, categorized);
      });
      for (const event of routed.decided) countDecision(deps.metrics, event);
      if (routed.skipped) deps.metrics.skipped.inc({ reason: 'already_routed' }, routed.skipped);
      const causeOf = new Map(categorized.map((c) => [routedEventId(c), c.id]));
      for (const event of routed.events)
        facts.push({ event, trace: trace.get(causeOf.get(event.id) ?? '') });
    }
    for (const [i, e] of events.entries()) {
      if (e.type === 'ticket.created' || e.type === 'ticket.categorized') continue;
      const trace = mine[i]!.headers.traceparent;
      for (const event of await deps.handleOne(e)) facts.push({ event, trace });
    }
    if (facts.length === 0) return;
    await deps.producer.send(
      deps.eventsTopic,
      facts.map((f) => encodeEvent(f.event, f.event.ticketId ?? f.event.id, f.trace)),
    );
  };
}

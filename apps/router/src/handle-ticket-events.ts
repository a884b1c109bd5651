import type pg from 'pg';
import { withTransaction } from '@mailroom/db';
import { deterministicId, makeEvent, type Envelope, type PayloadOf } from '@mailroom/events';
import { permanentError } from '@mailroom/kafka';
import { decideRoute, ruleKind, type RoutingContext } from './decide.js';
import type { RouterMetrics } from './router-metrics.js';

export const SOURCE = 'router';
export const DESCRIPTION_CHARS = 20_000;

/** ticket.created → the few fields routing and ticket.routed need (event-carried state). */
export async function rememberTicket(pool: pg.Pool, e: Envelope<'ticket.created'>): Promise<void> {
  await rememberTickets(pool, [e]);
}

/** The ticket.created of a chunk → router_tickets, one statement (the first of a ticket wins). */
export async function rememberTickets(
  db: pg.Pool | pg.ClientBase,
  created: Envelope<'ticket.created'>[],
) {
  const rows = new Map<string, Record<string, unknown>>();
  for (const e of created) {
    const p = e.payload;
    const seen = rows.get(e.ticketId!);
    if (seen) {
      seen.automated = Boolean(seen.automated) || (p.automated ?? false);
      continue;
    }
    rows.set(e.ticketId!, {
      ticket_id: e.ticketId,
      number: p.number,
      title: p.title,
      description: p.description.slice(0, DESCRIPTION_CHARS),
      requester_email: p.requester.email.toLowerCase(),
      requester_name: p.requester.name ?? null,
      message_id: p.messageId ?? null,
      automated: p.automated ?? false,
      created_at: p.createdAt,
    });
  }
  if (rows.size === 0) return;
  // A manual route may have created a stub row first: fill what is missing, keep the rest.
  await db.query(
    `INSERT INTO router_tickets (ticket_id, number, title, description, requester_email, requester_name, message_id, automated, created_at)
     SELECT * FROM json_to_recordset($1::json) AS x(ticket_id uuid, number bigint, title text,
       description text, requester_email text, requester_name text, message_id text,
       automated boolean, created_at timestamptz)
     ORDER BY ticket_id
     ON CONFLICT (ticket_id) DO UPDATE SET
       number = coalesce(router_tickets.number, excluded.number),
       title = coalesce(router_tickets.title, excluded.title),
       description = coalesce(router_tickets.description, excluded.description),
       requester_email = coalesce(router_tickets.requester_email, excluded.requester_email),
       requester_name = coalesce(router_tickets.requester_name, excluded.requester_name),
       message_id = coalesce(router_tickets.message_id, excluded.message_id),
       automated = router_tickets.automated OR excluded.automated`,
    [JSON.stringify([...rows.values()])],
  );
}

export interface TicketRow {
  number: string | null;
  title: string | null;
  description: string | null;
  requester_email: string | null;
  requester_name: string | null;
  message_id: string | null;
  department: string | null;
  priority: PayloadOf<'ticket.routed'>['priority'] | null;
  routed_at: Date | null;
}

/** A routing decision as stored and emitted (ticket.routed), from the ticket's row. */
export interface RoutingDecision {
  event: Envelope<'ticket.routed'>;
  confidence: number | undefined;
}

/**
 * The ticket.routed event for a categorization of a known, not yet routed ticket. Pure:
 * the single-record and the batch path both decide with it.
 */
export function decideRouted(
  ctx: RoutingContext,
  e: Envelope<'ticket.categorized'>,
  t: TicketRow,
): RoutingDecision {
  const ticketId = e.ticketId!;
  const decision = t.department
    ? // An agent routed it by hand before the categorizer answered: keep their choice.
      {
        department: t.department,
        priority: e.payload.priority,
        rule: 'manual',
        decidedBy: 'router:manual',
      }
    : decideRoute(
        {
          requesterEmail: t.requester_email!,
          title: t.title!,
          description: t.description ?? '',
          categorized: e.payload,
        },
        ctx,
      );
  const confidence = 'confidence' in decision ? decision.confidence : undefined;
  const event = makeEvent('ticket.routed', {
    id: routedEventId(e),
    ticketId,
    source: SOURCE,
    ...(e.correlationId ? { correlationId: e.correlationId } : {}),
    payload: {
      department: decision.department,
      priority: decision.priority,
      rule: decision.rule,
      ...(confidence !== undefined ? { confidence } : {}),
      decidedBy: decision.decidedBy,
      requester: {
        email: t.requester_email!,
        ...(t.requester_name ? { name: t.requester_name } : {}),
      },
      number: Number(t.number),
      title: t.title!,
      ...(t.message_id ? { messageId: t.message_id } : {}),
    },
  });
  return { event, confidence };
}

export const routedEventId = (e: Envelope<'ticket.categorized'>) =>
  deterministicId('event', e.id, 'routed');

/** Whether the row knows enough to route (its ticket.created was seen). */
export function checkKnown(ticketId: string, t: TicketRow | undefined): TicketRow {
  if (!t?.number || !t.requester_email || t.title === null) {
    // Its ticket.created precedes it on the same partition; missing means the group
    // started after it (or the topic lost it): a person has to look, not a retry.
    throw permanentError('TICKET_UNKNOWN', `no ticket.created seen for ticket ${ticketId}`);
  }
  return t;
}

export function countDecision(metrics: RouterMetrics, event: Envelope<'ticket.routed'>): void {
  metrics.decisions.inc({
    kind: 'routed',
    rule: ruleKind(event.payload.rule),
    department: event.payload.department,
  });
}

/**
 * ticket.categorized → one routing decision, stored in routing_history (keyed by an id
 * derived from the categorization) together with the event it emits. A redelivery
 * returns the stored event unchanged; a later re-categorization never re-routes (people
 * do that with a route command).
 */
export async function routeCategorized(
  pool: pg.Pool,
  ctx: RoutingContext,
  metrics: RouterMetrics,
  e: Envelope<'ticket.categorized'>,
): Promise<Envelope[]> {
  const ticketId = e.ticketId;
  if (!ticketId) throw permanentError('TICKET_ID_MISSING', 'ticket.categorized without ticketId');
  const eventId = routedEventId(e);
  return withTransaction(pool, async (db) => {
    const done = await db.query<{ event: Envelope | null }>(
      'SELECT event FROM routing_history WHERE event_id = $1',
      [eventId],
    );
    if (done.rows[0]) return done.rows[0].event ? [done.rows[0].event] : [];

    const { rows } = await db.query<TicketRow>(
      'SELECT * FROM router_tickets WHERE ticket_id = $1 FOR UPDATE',
      [ticketId],
    );
    const t = checkKnown(ticketId, rows[0]);
    if (t.routed_at) {
      metrics.skipped.inc({ reason: 'already_routed' });
      return [];
    }
    const { event, confidence } = decideRouted(ctx, e, t);
    const p = event.payload;
    await db.query(
      `INSERT INTO routing_history (event_id, ticket_id, department, kind, rule, confidence, decided_by, priority, event, at)
       VALUES ($1, $2, $3, 'routed', $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING`,
      [
        eventId,
        ticketId,
        p.department,
        p.rule,
        confidence ?? null,
        p.decidedBy,
        p.priority,
        JSON.stringify(event),
        event.occurredAt,
      ],
    );
    await db.query(
      `UPDATE router_tickets SET department = $2, priority = $3, routed_at = $4 WHERE ticket_id = $1`,
      [ticketId, p.department, p.priority, event.occurredAt],
    );
    countDecision(metrics, event);
    return [event];
  });
}

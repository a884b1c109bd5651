import type pg from 'pg';
import type { Taxonomy } from '@mailroom/categorizer';
import { withTransaction } from '@mailroom/db';
import { deterministicId, makeEvent, type Envelope, type RouteTicket } from '@mailroom/events';
import type { RouterMetrics } from './router-metrics.js';
import { SOURCE } from './handle-ticket-events.js';

/**
 * command.route_ticket: a person routes or reroutes a ticket, with a reason. Applied
 * once per command id (ticket_commands, the ledger intake-api reads command status
 * from); a redelivery re-emits the stored events. A reroute stores the previous
 * department, which is what the reroute rate of the statistics counts.
 */
export async function handleRouteCommand(
  pool: pg.Pool,
  taxonomy: Taxonomy,
  metrics: RouterMetrics,
  ticketId: string,
  c: RouteTicket,
): Promise<Envelope[]> {
  return withTransaction(pool, async (db) => {
    const done = await db.query<{ events: Envelope[] }>(
      'SELECT events FROM ticket_commands WHERE command_id = $1',
      [c.commandId],
    );
    if (done.rows[0]) return done.rows[0].events;

    // Serializes with the automatic decision of the same ticket (row lock).
    await db.query(
      'INSERT INTO router_tickets (ticket_id) VALUES ($1) ON CONFLICT (ticket_id) DO NOTHING',
      [ticketId],
    );
    const { rows } = await db.query<{ department: string | null }>(
      'SELECT department FROM router_tickets WHERE ticket_id = $1 FOR UPDATE',
      [ticketId],
    );
    const previous = rows[0]?.department ?? null;

    const record = async (outcome: 'applied' | 'rejected', events: Envelope[], code?: string) => {
      const reason = code ? (events[0]?.payload as { reason?: string }).reason : c.reason;
      await db.query(
        `INSERT INTO ticket_commands (command_id, ticket_id, kind, outcome, code, reason, actor_id, events)
         VALUES ($1, $2, 'route_ticket', $3, $4, $5, $6, $7) ON CONFLICT (command_id) DO NOTHING`,
        [
          c.commandId,
          ticketId,
          outcome,
          code ?? null,
          reason ?? null,
          c.actor.id,
          JSON.stringify(events),
        ],
      );
      return events;
    };
    const reject = (code: string, reason: string) => {
      metrics.commandsRejected.inc({ code });
      return record(
        'rejected',
        [
          makeEvent('ticket.command_rejected', {
            id: deterministicId('event', c.commandId, 'rejected'),
            ticketId,
            source: SOURCE,
            payload: { commandId: c.commandId, code, reason },
          }),
        ],
        code,
      );
    };

    const dep = taxonomy.departments.find((d) => d.name === c.department);
    if (!dep) return reject('UNKNOWN_DEPARTMENT', `department "${c.department}" does not exist`);
    if (dep.active === false) {
      return reject('DEPARTMENT_INACTIVE', `department "${c.department}" is inactive`);
    }
    if (previous === c.department) {
      return reject('ALREADY_IN_DEPARTMENT', `ticket is already in "${c.department}"`);
    }

    const eventId = deterministicId('event', c.commandId, 'rerouted');
    const event = makeEvent('ticket.rerouted', {
      id: eventId,
      ticketId,
      source: SOURCE,
      payload: {
        from: previous,
        to: c.department,
        reason: c.reason,
        actor: c.actor,
        commandId: c.commandId,
      },
    });
    await db.query(
      `INSERT INTO routing_history (event_id, ticket_id, department, previous_department, kind, rule, decided_by, reason, event, at)
       VALUES ($1, $2, $3, $4, 'rerouted', 'manual', $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING`,
      [
        eventId,
        ticketId,
        c.department,
        previous,
        `${c.actor.type}:${c.actor.id}`,
        c.reason,
        JSON.stringify(event),
        event.occurredAt,
      ],
    );
    await db.query('UPDATE router_tickets SET department = $2 WHERE ticket_id = $1', [
      ticketId,
      c.department,
    ]);
    metrics.decisions.inc({ kind: 'rerouted', rule: 'manual', department: c.department });
    return record('applied', [event]);
  });
}

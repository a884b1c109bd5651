import type pg from 'pg';
import { withTransaction } from '@mailroom/db';
import { canTransition, deterministicId, type Envelope, type UpdateTicket } from '@mailroom/events';
import { lockTicket, requesterOf } from './tickets-repo.js';
import { factEvent } from './emit.js';

/**
 * tickets.commands `command.update_ticket`: applies status/priority/category/assignee
 * changes once per command id, or rejects with a recorded reason. The resulting events
 * are stored with the command, so a redelivery re-emits the same ones.
 */
export async function handleUpdateCommand(
  pool: pg.Pool,
  ticketId: string,
  c: UpdateTicket,
): Promise<Envelope[]> {
  return withTransaction(pool, async (db) => {
    const done = await db.query<{ events: Envelope[] }>(
      'select events from ticket_commands where command_id = $1',
      [c.commandId],
    );
    if (done.rows[0]) return done.rows[0].events;

    const ticket = await lockTicket(db, ticketId);
    const reject = async (code: string, reason: string) => {
      const events = [
        factEvent(
          'ticket.command_rejected',
          ticketId,
          deterministicId('event', c.commandId, 'rejected'),
          {
            commandId: c.commandId,
            code,
            reason,
          },
        ),
      ];
      await db.query(
        `insert into ticket_commands (command_id, ticket_id, kind, outcome, code, reason, actor_id, events)
         values ($1, $2, 'update_ticket', 'rejected', $3, $4, $5, $6)`,
        [c.commandId, ticketId, code, reason, c.actor.id, JSON.stringify(events)],
      );
      return events;
    };
    if (!ticket) return reject('TICKET_NOT_FOUND', `ticket ${ticketId} does not exist`);
    const { status, priority, category, assignee } = c.changes;
    if (status && status !== ticket.status && !canTransition(ticket.status, status)) {
      return reject(
        'INVALID_TRANSITION',
        `cannot change status from ${ticket.status} to ${status}`,
      );
    }

    const events: Envelope[] = [];
    const now = new Date().toISOString();
    await db.query(
      `update tickets set
         status = coalesce($2, status), priority = coalesce($3, priority), category = coalesce($4, category),
         assignee = case when $5::boolean then $6 else assignee end,
         resolved_at = case when $2 = 'resolved' then $7::timestamptz when $2 in ('pending', 'in_progress') then null else resolved_at end,
         closed_at = case when $2 = 'closed' then $7::timestamptz else closed_at end,
         updated_at = greatest($7::timestamptz, created_at)
       where id = $1`,
      [
        ticketId,
        status ?? null,
        priority ?? null,
        category ?? null,
        assignee !== undefined,
        assignee ?? null,
        now,
      ],
    );
    if (status && status !== ticket.status) {
      const eventId = deterministicId('event', c.commandId, 'status');
      await db.query(
        `insert into ticket_status_history (event_id, ticket_id, from_status, to_status, actor_type, actor_id, reason, at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing`,
        [eventId, ticketId, ticket.status, status, c.actor.type, c.actor.id, c.reason ?? null, now],
      );
      events.push(
        factEvent(
          'ticket.status_changed',
          ticketId,
          eventId,
          {
            from: ticket.status,
            to: status,
            actor: c.actor,
            ...(c.reason ? { reason: c.reason } : {}),
            number: ticket.number,
            requester: requesterOf(ticket),
            title: ticket.title,
          },
          now,
        ),
      );
    }
    const { status: _s, ...others } = c.changes;
    if (Object.keys(others).length > 0) {
      events.push(
        factEvent(
          'ticket.updated',
          ticketId,
          deterministicId('event', c.commandId, 'updated'),
          {
            changes: others,
            actor: c.actor,
            commandId: c.commandId,
          },
          now,
        ),
      );
    }
    await db.query(
      `insert into ticket_commands (command_id, ticket_id, kind, outcome, actor_id, events)
       values ($1, $2, 'update_ticket', 'applied', $3, $4)`,
      [c.commandId, ticketId, c.actor.id, JSON.stringify(events)],
    );
    return events;
  });
}

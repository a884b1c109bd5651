import type { Envelope } from '@mailroom/events';
import { jsonLiteral, listLiteral } from './statements.js';

// What the notifier keeps of a ticket (notifier_tickets): the machine flag and Message-ID
// of ticket.created, the department and priority of ticket.routed / ticket.rerouted. A
// chunk of events is folded over the stored rows in memory, in log order, so every mail
// sees the ticket as it was at its own event, and the result is written in one statement.

export interface TicketState {
  ticket_id: string;
  number: number | null;
  requester_email: string | null;
  requester_name: string | null;
  title: string | null;
  message_id: string | null;
  automated: boolean;
  department: string | null;
  priority: string | null;
}

export type TicketStates = Map<string, TicketState>;

const COLUMNS = `ticket_id, number::float8 AS number, requester_email, requester_name, title,
  message_id, automated, department, priority`;

/** The stored rows of these tickets (a statement for a round trip of the chunk). */
export const selectTickets = (ticketIds: readonly string[]) =>
  `SELECT ${COLUMNS} FROM notifier_tickets WHERE ticket_id IN ${listLiteral(ticketIds, 'uuid')}`;

export function ticketStates(rows: TicketState[]): TicketStates {
  return new Map(rows.map((row) => [row.ticket_id, row]));
}

/** What ticket.created and ticket.routed both carry. */
interface TicketFacts {
  number: number;
  title: string;
  requester: { email: string; name?: string | undefined };
  messageId?: string | undefined;
}

function fresh(ticketId: string, p: TicketFacts): TicketState {
  return {
    ticket_id: ticketId,
    number: p.number,
    requester_email: p.requester.email.toLowerCase(),
    requester_name: p.requester.name ?? null,
    title: p.title,
    message_id: p.messageId ?? null,
    automated: false,
    department: null,
    priority: null,
  };
}

/**
 * Applies one event to the state (as the upserts of the one-by-one path did); returns
 * whether the ticket's row changed. A reroute of a ticket without a row changes nothing.
 */
export function applyTicketEvent(states: TicketStates, event: Envelope): boolean {
  const id = event.ticketId;
  if (!id) return false;
  const known = states.get(id);
  switch (event.type) {
    case 'ticket.created': {
      const p = (event as Envelope<'ticket.created'>).payload;
      const t = known ?? fresh(id, p);
      t.automated = t.automated || (p.automated ?? false);
      t.message_id ??= p.messageId ?? null;
      states.set(id, t);
      return true;
    }
    case 'ticket.routed': {
      const p = (event as Envelope<'ticket.routed'>).payload;
      const t = known ?? fresh(id, p);
      t.department = p.department;
      t.priority = p.priority;
      t.message_id ??= p.messageId ?? null;
      states.set(id, t);
      return true;
    }
    case 'ticket.rerouted': {
      if (!known) return false;
      known.department = (event as Envelope<'ticket.rerouted'>).payload.to;
      return true;
    }
    default:
      return false;
  }
}

/**
 * Writes the folded rows in one statement, in ticket id order (two instances that meet on
 * the same tickets during a rebalance lock them in the same order). The merge rules hold
 * even against a row written since it was read: the machine flag only turns on, the
 * first Message-ID stays.
 */
export function upsertTickets(rows: TicketState[]): string {
  const sorted = [...rows].sort((a, b) => (a.ticket_id < b.ticket_id ? -1 : 1));
  return `INSERT INTO notifier_tickets AS t (ticket_id, number, requester_email, requester_name,
       title, message_id, automated, department, priority)
     SELECT ticket_id, number, requester_email, requester_name, title, message_id, automated,
       department, priority
     FROM json_to_recordset(${jsonLiteral(sorted)}) AS x(ticket_id uuid, number bigint,
       requester_email text, requester_name text, title text, message_id text, automated boolean,
       department text, priority text)
     ON CONFLICT (ticket_id) DO UPDATE SET automated = t.automated OR excluded.automated,
       message_id = coalesce(t.message_id, excluded.message_id),
       department = coalesce(excluded.department, t.department),
       priority = coalesce(excluded.priority, t.priority), updated_at = now()`;
}

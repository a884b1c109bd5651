import { randomUUID } from 'node:crypto';
import {
  canTransition,
  encodeEvent,
  makeEvent,
  TOPICS,
  type Actor,
  type TicketChanges,
  type TicketStatus,
} from '@mailroom/events';
import type { AppDeps } from './app-types.js';
import { ApiError, conflict, notFound } from './errors.js';
import type { IntakeMetrics } from './http-metrics.js';
import { findTicket, type TicketRef } from './ticket-queries.js';

// Changes to a ticket are commands on tickets.commands, keyed by ticket id (ordered per
// ticket). The API checks what it can see now (the ticket exists, the transition is
// allowed from its current status); ticket-store re-checks when it applies the command
// and records a rejection if the ticket moved in between.

export async function existingTicket(deps: AppDeps, idOrNumber: string): Promise<TicketRef> {
  const ticket = await findTicket(deps.pool, idOrNumber);
  if (!ticket) throw notFound(`ticket ${idOrNumber}`);
  return ticket;
}

export function checkTransition(from: TicketStatus, to: TicketStatus): void {
  if (canTransition(from, to)) return;
  throw conflict(
    'INVALID_TRANSITION',
    from === to
      ? `the ticket is already ${from}`
      : from === 'closed'
        ? `a closed ticket cannot change status (to ${to}); closed is final`
        : `status cannot change from ${from} to ${to}`,
  );
}

export function checkDepartment(deps: AppDeps, department: string): void {
  if (deps.departments.some((d) => d.name === department)) return;
  throw new ApiError(
    422,
    'UNKNOWN_DEPARTMENT',
    `unknown department "${department}" (known: ${deps.departments.map((d) => d.name).join(', ')})`,
    { details: [{ field: 'body/department', reason: 'not a department of the taxonomy' }] },
  );
}

export async function sendUpdate(
  deps: AppDeps,
  metrics: IntakeMetrics,
  ticketId: string,
  changes: TicketChanges,
  actor: Actor,
  reason: string | undefined,
): Promise<string> {
  const commandId = randomUUID();
  const event = makeEvent('command.update_ticket', {
    id: commandId,
    ticketId,
    source: 'intake-api',
    payload: { commandId, changes, actor, ...(reason ? { reason } : {}) },
  });
  await deps.producer.send(TOPICS.commands, encodeEvent(event, ticketId));
  metrics.commandsAccepted.inc({ type: event.type });
  return commandId;
}

export async function sendRoute(
  deps: AppDeps,
  metrics: IntakeMetrics,
  ticketId: string,
  department: string,
  actor: Actor,
  reason: string,
): Promise<string> {
  const commandId = randomUUID();
  const event = makeEvent('command.route_ticket', {
    id: commandId,
    ticketId,
    source: 'intake-api',
    payload: { commandId, department, actor, reason },
  });
  await deps.producer.send(TOPICS.commands, encodeEvent(event, ticketId));
  metrics.commandsAccepted.inc({ type: event.type });
  return commandId;
}

export const accepted = (ticketId: string, commandIds: string[]) => ({
  commandId: commandIds[0]!,
  commandIds,
  statusUrl: `/api/commands/${commandIds[0]!}`,
  ticketUrl: `/api/tickets/${ticketId}`,
});

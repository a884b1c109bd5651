import type pg from 'pg';
import { withTransaction } from '@mailroom/db';
import { deterministicId, makeEvent, type Envelope } from '@mailroom/events';
import { classifyError } from '@mailroom/kafka';
import type { NotifierMetrics } from './notifier-metrics.js';
import {
  enqueueMany,
  failureOf,
  planId,
  type MailPlan,
  type OutboxPolicy,
  type OutboxRow,
} from './outbox.js';
import type { Sender } from './sender.js';
import {
  applyTicketEvent,
  loadTickets,
  saveTickets,
  type TicketState,
  type TicketStates,
} from './ticket-facts.js';
import { EXPECTED_RESPONSE, statusTemplate, type TemplateParams } from './templates.js';

export const SOURCE = 'notifier';

export interface NotifierHandlerDeps {
  pool: pg.Pool;
  sender: Sender;
  metrics: NotifierMetrics;
  policy: OutboxPolicy;
  publicUrl: string;
}

function values(
  deps: NotifierHandlerDeps,
  t: { number: number; title: string; name?: string | undefined },
  department: string | null,
  priority: string | null,
): TemplateParams {
  return {
    number: String(t.number),
    title: t.title,
    name: t.name?.trim() || 'there',
    department: department ?? 'support',
    priority: priority ?? 'medium',
    expectedResponse: EXPECTED_RESPONSE[priority ?? 'medium'] ?? EXPECTED_RESPONSE.medium!,
    statusUrl: `${deps.publicUrl.replace(/\/+$/, '')}/tickets/${t.number}`,
  };
}

/** ticket.routed → acknowledgement; ticket.status_changed → status mail (seeing `t` as of then). */
function planOf(
  deps: NotifierHandlerDeps,
  event: Envelope,
  t: TicketState | undefined,
): MailPlan | null {
  const ticketId = event.ticketId;
  if (!ticketId) return null;
  if (event.type === 'ticket.routed') {
    const p = (event as Envelope<'ticket.routed'>).payload;
    return {
      ticketId,
      template: 'acknowledgement',
      triggerEventId: event.id,
      to: p.requester.email,
      automated: t?.automated ?? false,
      params: {
        number: p.number,
        ...(p.requester.name ? { toName: p.requester.name } : {}),
        ...(p.messageId ? { inReplyTo: p.messageId } : {}),
        values: values(deps, { ...p, name: p.requester.name }, p.department, p.priority),
      },
    };
  }
  if (event.type === 'ticket.status_changed') {
    const p = (event as Envelope<'ticket.status_changed'>).payload;
    const template = statusTemplate(p.to);
    if (!template) return null;
    return {
      ticketId,
      template,
      triggerEventId: event.id,
      to: p.requester.email,
      automated: t?.automated ?? false,
      params: {
        number: p.number,
        ...(p.requester.name ? { toName: p.requester.name } : {}),
        ...(t?.message_id ? { inReplyTo: t.message_id } : {}),
        values: values(
          deps,
          { ...p, name: p.requester.name },
          t?.department ?? null,
          t?.priority ?? null,
        ),
      },
    };
  }
  return null;
}

/** The fact that a mail went out: ticket-store indexes its Message-ID for threading. */
function acknowledged(row: OutboxRow): Envelope<'ticket.acknowledged'> {
  return makeEvent('ticket.acknowledged', {
    id: deterministicId('event', row.id, 'acknowledged'),
    ticketId: row.ticket_id,
    source: SOURCE,
    payload: {
      template: row.template,
      to: row.to_address,
      messageId: row.message_id,
      sentAt: (row.sent_at ?? new Date()).toISOString(),
    },
  });
}

/** Worst first: a record that can never pass, then a fault of unknown kind, then an outage. */
function worst(errors: Error[]): Error | undefined {
  const rank = { permanent: 0, unknown: 1, transient: 2 } as const;
  return [...errors].sort((a, b) => rank[classifyError(a)] - rank[classifyError(b)])[0];
}

/**
 * The events of one chunk (consecutive records of one partition), in log order:
 * 1. one transaction: the ticket facts folded and saved, the outbox rows of every mail
 *    the chunk asks for inserted with their send-or-suppress decision;
 * 2. the pending rows sent over the sender's lanes (each under its own row lock);
 * 3. a ticket.acknowledged per mail-triggering event whose mail is sent (again for a
 *    redelivered one), returned in the order of the events.
 * Throws when a mail is not settled: permanently failed rows first (the consumer then
 * handles the records one by one, so only that record is dead-lettered), else the
 * fault to retry the chunk after (every step is idempotent).
 */
export async function handleNotifierEvents(
  deps: NotifierHandlerDeps,
  events: { event: Envelope; trace?: string | undefined }[],
): Promise<{ event: Envelope; trace?: string | undefined }[]> {
  if (events.every((e) => e.event.type === 'ticket.created')) {
    // Facts only, nothing to mail: the upsert merges them with what is stored.
    const states: TicketStates = new Map();
    for (const { event } of events) applyTicketEvent(states, event);
    await saveTickets(deps.pool, [...states.values()]);
    return [];
  }
  const ticketIds = [
    ...new Set(events.map((e) => e.event.ticketId).filter((id): id is string => !!id)),
  ];
  const { plans, rows } = await withTransaction(deps.pool, async (db) => {
    const states = await loadTickets(db, ticketIds);
    const changed = new Set<string>();
    const plans: { plan: MailPlan; trace?: string | undefined }[] = [];
    for (const { event, trace } of events) {
      if (applyTicketEvent(states, event)) changed.add(event.ticketId!);
      const plan = planOf(deps, event, event.ticketId ? states.get(event.ticketId) : undefined);
      if (plan) plans.push({ plan, trace });
    }
    await saveTickets(
      db,
      [...changed].map((id) => states.get(id)!),
    );
    const rows = await enqueueMany(
      db,
      plans.map((p) => p.plan),
      deps.policy,
      deps.metrics,
    );
    return { plans, rows };
  });

  const pending = [...rows.values()].filter((r) => r.status === 'pending');
  const deliveries = await deps.sender.deliver(pending);
  const errors: Error[] = [];
  pending.forEach((row, i) => {
    const d = deliveries[i]!;
    if (d.error) errors.push(d.error);
    else rows.set(row.id, d.row);
  });
  for (const row of rows.values()) if (row.status === 'failed') errors.push(failureOf(row));
  const error = worst(errors);
  if (error) throw error;

  const out: { event: Envelope; trace?: string | undefined }[] = [];
  for (const { plan, trace } of plans) {
    const row = rows.get(planId(plan))!;
    // Sent earlier (a redelivery after a crash before the emit): the same event again.
    if (row.status === 'sent') out.push({ event: acknowledged(row), trace });
  }
  return out;
}

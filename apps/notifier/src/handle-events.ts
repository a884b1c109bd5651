import type pg from 'pg';
import { deterministicId, makeEvent, type Envelope } from '@mailroom/events';
import { classifyError } from '@mailroom/kafka';
import type { NotifierMetrics } from './notifier-metrics.js';
import {
  decide,
  failureOf,
  insertRows,
  lockAddresses,
  normalAddress,
  planId,
  selectAddressFacts,
  selectRows,
  type AddressFacts,
  type MailPlan,
  type OutboxPolicy,
  type OutboxRow,
} from './outbox.js';
import type { Sender } from './sender.js';
import { Statements } from './statements.js';
import {
  applyTicketEvent,
  selectTickets,
  ticketStates,
  upsertTickets,
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

type Traced = { event: Envelope; trace?: string | undefined };

/**
 * The chunk's transaction, two round trips: (1) BEGIN, the requesters' advisory locks,
 * the stored ticket facts, existing outbox rows and what we know of each address; (2) the
 * folded ticket facts, the new outbox rows with their send-or-suppress decision, the
 * stored rows of every mail, COMMIT. Which mails the chunk asks for (ids, addresses) is
 * known before anything is read; what they say depends on the ticket as of their event.
 */
async function storeChunk(deps: NotifierHandlerDeps, events: Traced[]) {
  const ticketIds = [
    ...new Set(events.map((e) => e.event.ticketId).filter((id): id is string => !!id)),
  ];
  const asked = events.flatMap(({ event }) => planOf(deps, event, undefined) ?? []);
  const ids = [...new Set(asked.map(planId))];
  const addresses = [...new Set(asked.map((p) => normalAddress(p.to)))];
  const db = await deps.pool.connect();
  let broken: Error | undefined;
  try {
    const read = new Statements();
    read.add('BEGIN');
    if (addresses.length > 0) read.add(lockAddresses(addresses));
    const tickets = read.add(selectTickets(ticketIds));
    const existing = ids.length > 0 ? read.add(selectRows(ids)) : -1;
    const known = addresses.length > 0 ? read.add(selectAddressFacts(addresses, deps.policy)) : -1;
    const got = await read.run(db);

    const states = ticketStates(got[tickets]!.rows as TicketState[]);
    const changed = new Set<string>();
    const plans: { plan: MailPlan; trace?: string | undefined }[] = [];
    for (const { event, trace } of events) {
      if (applyTicketEvent(states, event)) changed.add(event.ticketId!);
      const plan = planOf(deps, event, event.ticketId ? states.get(event.ticketId) : undefined);
      if (plan) plans.push({ plan, trace });
    }
    const rows = new Map<string, OutboxRow>();
    for (const row of (got[existing]?.rows ?? []) as OutboxRow[]) rows.set(row.id, row);
    const missing = new Map<string, MailPlan>();
    for (const { plan } of plans) {
      const id = planId(plan);
      if (!rows.has(id) && !missing.has(id)) missing.set(id, plan);
    }
    const facts = new Map(
      ((got[known]?.rows ?? []) as AddressFacts[]).map((f) => [f.address, f] as const),
    );
    const fresh = [...missing.values()];
    const reasons = decide(fresh, facts, deps.policy);

    const write = new Statements();
    if (changed.size > 0) write.add(upsertTickets([...changed].map((id) => states.get(id)!)));
    const inserted = fresh.length > 0 ? write.add(insertRows(fresh, reasons, deps.policy)) : -1;
    // Ours, or another instance's inserted since we looked: the stored row is the one.
    const stored = fresh.length > 0 ? write.add(selectRows([...missing.keys()])) : -1;
    write.add('COMMIT');
    const done = await write.run(db);
    for (const row of (done[stored]?.rows ?? []) as OutboxRow[]) rows.set(row.id, row);
    for (const row of (done[inserted]?.rows ?? []) as Pick<
      OutboxRow,
      'template' | 'status' | 'reason'
    >[]) {
      if (row.status !== 'suppressed') continue;
      deps.metrics.mails.inc({
        template: row.template,
        outcome: 'suppressed',
        reason: row.reason ?? '',
      });
    }
    return { plans, rows };
  } catch (err) {
    await db.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    db.release(broken);
  }
}

/**
 * The events of one chunk (consecutive records of one partition), in log order:
 * 1. one transaction (storeChunk): the ticket facts folded and saved, the outbox rows of
 *    every mail the chunk asks for inserted with their send-or-suppress decision;
 * 2. the pending rows sent over the sender's lanes (each under its own row lock);
 * 3. a ticket.acknowledged per mail-triggering event whose mail is sent (again for a
 *    redelivered one), returned in the order of the events.
 * Throws when a mail is not settled: permanently failed rows first (the consumer then
 * handles the records one by one, so only that record is dead-lettered), else the
 * fault to retry the chunk after (every step is idempotent).
 */
export async function handleNotifierEvents(
  deps: NotifierHandlerDeps,
  events: Traced[],
): Promise<Traced[]> {
  if (events.every((e) => e.event.type === 'ticket.created')) {
    // Facts only, nothing to mail: one upsert merges them with what is stored.
    const states: TicketStates = new Map();
    for (const { event } of events) applyTicketEvent(states, event);
    await deps.pool.query(upsertTickets([...states.values()]));
    return [];
  }
  const { plans, rows } = await storeChunk(deps, events);

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

  const out: Traced[] = [];
  for (const { plan, trace } of plans) {
    const row = rows.get(planId(plan))!;
    // Sent earlier (a redelivery after a crash before the emit): the same event again.
    if (row.status === 'sent') out.push({ event: acknowledged(row), trace });
  }
  return out;
}

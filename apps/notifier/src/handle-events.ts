import type pg from 'pg';
import { deterministicId, makeEvent, type Envelope } from '@mailroom/events';
import {
  deliver,
  enqueue,
  type DeliverDeps,
  type MailPlan,
  type OutboxPolicy,
  type OutboxRow,
} from './outbox.js';
import { EXPECTED_RESPONSE, statusTemplate, type TemplateParams } from './templates.js';

export const SOURCE = 'notifier';

export interface NotifierHandlerDeps extends DeliverDeps {
  policy: OutboxPolicy;
  publicUrl: string;
}

interface TicketRow {
  number: string | null;
  requester_name: string | null;
  title: string | null;
  message_id: string | null;
  automated: boolean;
  department: string | null;
  priority: string | null;
}

/** What the notifier keeps of a ticket: the machine flag and Message-ID of ticket.created. */
async function rememberCreated(pool: pg.Pool, e: Envelope<'ticket.created'>): Promise<void> {
  const p = e.payload;
  await pool.query(
    `INSERT INTO notifier_tickets (ticket_id, number, requester_email, requester_name, title, message_id, automated)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (ticket_id) DO UPDATE SET automated = notifier_tickets.automated OR excluded.automated,
       message_id = coalesce(notifier_tickets.message_id, excluded.message_id), updated_at = now()`,
    [
      e.ticketId,
      p.number,
      p.requester.email.toLowerCase(),
      p.requester.name ?? null,
      p.title,
      p.messageId ?? null,
      p.automated ?? false,
    ],
  );
}

async function rememberRouted(pool: pg.Pool, e: Envelope<'ticket.routed'>): Promise<TicketRow> {
  const p = e.payload;
  const { rows } = await pool.query<TicketRow>(
    `INSERT INTO notifier_tickets (ticket_id, number, requester_email, requester_name, title, message_id, department, priority)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (ticket_id) DO UPDATE SET department = excluded.department, priority = excluded.priority,
       message_id = coalesce(notifier_tickets.message_id, excluded.message_id), updated_at = now()
     RETURNING *`,
    [
      e.ticketId,
      p.number,
      p.requester.email.toLowerCase(),
      p.requester.name ?? null,
      p.title,
      p.messageId ?? null,
      p.department,
      p.priority,
    ],
  );
  return rows[0]!;
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

async function send(deps: NotifierHandlerDeps, plan: MailPlan): Promise<Envelope[]> {
  let row = await enqueue(deps.pool, plan, deps.policy, deps.metrics);
  if (row.status === 'pending') row = await deliver(deps, row.id);
  // Sent earlier (a redelivery after a crash before the emit): the same event again.
  return row.status === 'sent' ? [acknowledged(row)] : [];
}

/** ticket.routed → acknowledgement; ticket.status_changed → status mail; others → state. */
export async function handleNotifierRecord(
  deps: NotifierHandlerDeps,
  event: Envelope,
): Promise<Envelope[]> {
  const ticketId = event.ticketId;
  if (!ticketId) return [];
  switch (event.type) {
    case 'ticket.created':
      await rememberCreated(deps.pool, event as Envelope<'ticket.created'>);
      return [];
    case 'ticket.rerouted': {
      const p = (event as Envelope<'ticket.rerouted'>).payload;
      await deps.pool.query(
        'UPDATE notifier_tickets SET department = $2, updated_at = now() WHERE ticket_id = $1',
        [ticketId, p.to],
      );
      return [];
    }
    case 'ticket.routed': {
      const e = event as Envelope<'ticket.routed'>;
      const t = await rememberRouted(deps.pool, e);
      const p = e.payload;
      return send(deps, {
        ticketId,
        template: 'acknowledgement',
        triggerEventId: e.id,
        to: p.requester.email,
        automated: t.automated,
        params: {
          number: p.number,
          ...(p.requester.name ? { toName: p.requester.name } : {}),
          ...(p.messageId ? { inReplyTo: p.messageId } : {}),
          values: values(deps, { ...p, name: p.requester.name }, p.department, p.priority),
        },
      });
    }
    case 'ticket.status_changed': {
      const e = event as Envelope<'ticket.status_changed'>;
      const template = statusTemplate(e.payload.to);
      if (!template) return [];
      const p = e.payload;
      const { rows } = await deps.pool.query<TicketRow>(
        'SELECT * FROM notifier_tickets WHERE ticket_id = $1',
        [ticketId],
      );
      const t = rows[0];
      return send(deps, {
        ticketId,
        template,
        triggerEventId: e.id,
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
      });
    }
    default:
      return [];
  }
}

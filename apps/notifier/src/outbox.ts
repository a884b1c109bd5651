import { deterministicId } from '@mailroom/events';
import { permanentError, type ProcessingError } from '@mailroom/kafka';
import { ourMessageId } from '@mailroom/mail';
import { jsonLiteral, listLiteral } from './statements.js';
import { addressSuppression, type SuppressionReason } from './suppression.js';
import type { TemplateName, TemplateParams } from './templates.js';

// Sending is idempotent through this table (DESIGN.md, "Delivery semantics"):
//  1. the row is inserted first, unique per (ticket, template, triggering event), with
//     the decision whether it may be sent at all (suppressed rows record why);
//  2. a pending row is sent only while its row lock is held (FOR UPDATE SKIP LOCKED) and
//     marked sent in the same transaction (sender.ts) — a second instance or a
//     redelivery finds it locked or sent and never sends it again.
// The one window left: the server accepted the message (250) and the process died
// before the COMMIT of "sent". The row is still pending and the mail goes out again,
// with the same Message-ID (fixed at insert), so the duplicate is recognisable and
// clients that dedupe by Message-ID show one. The window is one round trip to Postgres.

export interface OutboxParams {
  number: number;
  toName?: string;
  inReplyTo?: string;
  values: TemplateParams;
}

export interface OutboxRow {
  id: string;
  ticket_id: string;
  template: TemplateName;
  trigger_event_id: string;
  to_address: string;
  status: 'pending' | 'sent' | 'suppressed' | 'failed';
  reason: string | null;
  message_id: string;
  params: OutboxParams;
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
}

/** The columns of OutboxRow (not the bookkeeping ones: fewer to parse per mail). */
export const ROW_COLUMNS =
  'id, ticket_id, template, trigger_event_id, to_address, status, reason, message_id, params, attempts, last_error, sent_at';

export interface MailPlan {
  ticketId: string;
  template: TemplateName;
  triggerEventId: string;
  to: string;
  params: OutboxParams;
  /** ticket.created said the requester is a machine (auto-reply, bounce, list). */
  automated: boolean;
}

export interface OutboxPolicy {
  ownAddresses: readonly string[];
  messageIdDomain: string;
  /** Per requester and hour; only acknowledgements are limited, status mails are asked for. */
  ackLimitPerHour: number;
}

export const outboxId = (ticketId: string, template: string, triggerEventId: string) =>
  deterministicId('outbox', ticketId, template, triggerEventId);

export const planId = (plan: MailPlan) =>
  outboxId(plan.ticketId, plan.template, plan.triggerEventId);

/** A row that failed for good is the failure of the record that asked for it, every time. */
export function failureOf(row: OutboxRow): ProcessingError {
  const code = row.reason === 'compose_failed' ? 'MAIL_COMPOSE_FAILED' : 'SMTP_REJECTED';
  return permanentError(code, row.last_error ?? row.reason ?? 'failed');
}

/** What a chunk's transaction reads of a requester address, under its advisory lock. */
export interface AddressFacts {
  address: string;
  undeliverable: boolean;
  /** Acknowledgements of the last hour that count against the limit (counted up to it). */
  recent_acks: number;
}

export const normalAddress = (address: string) => address.trim().toLowerCase();

/**
 * One requester at a time, so two partitions (or instances) cannot both pass the rate
 * limit; in one order everywhere (sorted lock keys), so none waits on another in a cycle.
 * Held until the chunk's COMMIT.
 */
export const lockAddresses = (addresses: readonly string[]) =>
  `SELECT count(pg_advisory_xact_lock(k)) FROM (
     SELECT DISTINCT hashtextextended('notifier:' || a, 0) AS k FROM ${listLiteral(addresses, 'text')} AS t(a)
     ORDER BY 1) AS keys`;

export const selectRows = (ids: readonly string[]) =>
  `SELECT ${ROW_COLUMNS} FROM notifier_outbox WHERE id IN ${listLiteral(ids, 'uuid')}`;

/** Bounces and recent acknowledgements per address (after lockAddresses, same transaction). */
export const selectAddressFacts = (addresses: readonly string[], policy: OutboxPolicy) =>
  `SELECT a AS address,
     EXISTS (SELECT 1 FROM undeliverable_addresses u WHERE u.address = a) AS undeliverable,
     (SELECT count(*)::int FROM (SELECT 1 FROM notifier_outbox o
       WHERE o.to_address = a AND o.template = 'acknowledgement' AND o.status IN ('pending', 'sent')
         AND o.created_at > now() - interval '1 hour'
       LIMIT ${Math.trunc(policy.ackLimitPerHour)}) AS recent) AS recent_acks
   FROM ${listLiteral(addresses, 'text')} AS t(a)`;

/**
 * The suppression reason of each new plan (null: send it), in order. Acknowledgements of
 * the same chunk count against the limit as they are admitted.
 */
export function decide(
  plans: MailPlan[],
  facts: Map<string, AddressFacts>,
  policy: OutboxPolicy,
): (SuppressionReason | null)[] {
  const acks = new Map([...facts.values()].map((f) => [f.address, f.recent_acks]));
  return plans.map((plan) => {
    const to = normalAddress(plan.to);
    const byAddress = addressSuppression(to, policy.ownAddresses);
    if (byAddress) return byAddress;
    if (plan.automated) return 'automated_sender';
    if (facts.get(to)?.undeliverable) return 'undeliverable';
    if (plan.template !== 'acknowledgement') return null;
    const sent = acks.get(to) ?? 0;
    if (sent >= policy.ackLimitPerHour) return 'rate_limited';
    acks.set(to, sent + 1);
    return null;
  });
}

/** Inserts new outbox rows (a row another instance inserted meanwhile stays theirs). */
export function insertRows(
  plans: MailPlan[],
  reasons: (SuppressionReason | null)[],
  policy: OutboxPolicy,
): string {
  const rows = plans.map((plan, i) => {
    const id = planId(plan);
    return {
      id,
      ticket_id: plan.ticketId,
      template: plan.template,
      trigger_event_id: plan.triggerEventId,
      to_address: normalAddress(plan.to),
      status: reasons[i] ? 'suppressed' : 'pending',
      reason: reasons[i],
      message_id: ourMessageId(`mailroom.${id}`, policy.messageIdDomain),
      params: plan.params,
    };
  });
  return `INSERT INTO notifier_outbox (id, ticket_id, template, trigger_event_id, to_address,
       status, reason, message_id, params)
     SELECT * FROM json_to_recordset(${jsonLiteral(rows)}) AS x(id uuid, ticket_id uuid,
       template text, trigger_event_id uuid, to_address text, status text, reason text,
       message_id text, params jsonb)
     ON CONFLICT DO NOTHING RETURNING id, template, status, reason`;
}

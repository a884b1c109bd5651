import type pg from 'pg';
import { deterministicId } from '@mailroom/events';
import { permanentError, type ProcessingError } from '@mailroom/kafka';
import { ourMessageId } from '@mailroom/mail';
import type { NotifierMetrics } from './notifier-metrics.js';
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

interface AddressFacts {
  address: string;
  undeliverable: boolean;
  recent_acks: number;
}

/**
 * Inserts the outbox rows of these plans once each (with the send-or-suppress decision);
 * returns every plan's stored row by outbox id. Runs inside the caller's transaction.
 */
export async function enqueueMany(
  db: pg.ClientBase,
  plans: MailPlan[],
  policy: OutboxPolicy,
  metrics: NotifierMetrics,
): Promise<Map<string, OutboxRow>> {
  const stored = new Map<string, OutboxRow>();
  if (plans.length === 0) return stored;
  const byId = new Map<string, MailPlan & { to: string }>();
  for (const plan of plans) {
    const id = planId(plan);
    if (!byId.has(id)) byId.set(id, { ...plan, to: plan.to.trim().toLowerCase() });
  }
  const addresses = [...new Set([...byId.values()].map((p) => p.to))];
  // One requester at a time, so two partitions cannot both pass the rate limit; in one
  // order everywhere (sorted lock keys), so two instances never wait on each other.
  await db.query(
    `SELECT count(pg_advisory_xact_lock(k)) FROM (
       SELECT DISTINCT hashtextextended('notifier:' || a, 0) AS k FROM unnest($1::text[]) AS a
       ORDER BY 1) AS keys`,
    [addresses],
  );
  const existing = await db.query<OutboxRow>(
    `SELECT ${ROW_COLUMNS} FROM notifier_outbox WHERE id = ANY($1::uuid[])`,
    [[...byId.keys()]],
  );
  for (const row of existing.rows) stored.set(row.id, row);
  const missing = [...byId].filter(([id]) => !stored.has(id));
  if (missing.length === 0) return stored;

  const decisions = await decide(db, missing, policy);
  const inserted = await db.query<OutboxRow>(
    `INSERT INTO notifier_outbox (id, ticket_id, template, trigger_event_id, to_address, status,
       reason, message_id, params)
     SELECT * FROM json_to_recordset($1::json) AS x(id uuid, ticket_id uuid, template text,
       trigger_event_id uuid, to_address text, status text, reason text, message_id text,
       params jsonb)
     ON CONFLICT DO NOTHING RETURNING ${ROW_COLUMNS}`,
    [
      JSON.stringify(
        missing.map(([id, plan], i) => ({
          id,
          ticket_id: plan.ticketId,
          template: plan.template,
          trigger_event_id: plan.triggerEventId,
          to_address: plan.to,
          status: decisions[i] ? 'suppressed' : 'pending',
          reason: decisions[i],
          message_id: ourMessageId(`mailroom.${id}`, policy.messageIdDomain),
          params: plan.params,
        })),
      ),
    ],
  );
  for (const row of inserted.rows) {
    stored.set(row.id, row);
    if (row.status === 'suppressed') {
      metrics.mails.inc({
        template: row.template,
        outcome: 'suppressed',
        reason: row.reason ?? '',
      });
    }
  }
  // Inserted by another instance since we looked: theirs is the row.
  const raced = missing.map(([id]) => id).filter((id) => !stored.has(id));
  if (raced.length > 0) {
    const again = await db.query<OutboxRow>(
      `SELECT ${ROW_COLUMNS} FROM notifier_outbox WHERE id = ANY($1::uuid[])`,
      [raced],
    );
    for (const row of again.rows) stored.set(row.id, row);
  }
  return stored;
}

/** The suppression reason of each new plan (null: send it), in order. */
async function decide(
  db: pg.ClientBase,
  plans: [string, MailPlan][],
  policy: OutboxPolicy,
): Promise<(SuppressionReason | null)[]> {
  const reasons = plans.map(([, plan]): SuppressionReason | null => {
    const byAddress = addressSuppression(plan.to, policy.ownAddresses);
    if (byAddress) return byAddress;
    return plan.automated ? 'automated_sender' : null;
  });
  const open = [...new Set(plans.filter((_, i) => !reasons[i]).map(([, p]) => p.to))];
  if (open.length === 0) return reasons;
  const { rows } = await db.query<AddressFacts>(
    `SELECT a AS address,
       EXISTS (SELECT 1 FROM undeliverable_addresses u WHERE u.address = a) AS undeliverable,
       (SELECT count(*)::int FROM (SELECT 1 FROM notifier_outbox o
         WHERE o.to_address = a AND o.template = 'acknowledgement' AND o.status IN ('pending', 'sent')
           AND o.created_at > now() - interval '1 hour' LIMIT $2) AS recent) AS recent_acks
     FROM unnest($1::text[]) AS a`,
    // Counted up to the limit only: a flooding sender costs no more than anyone else.
    [open, policy.ackLimitPerHour],
  );
  const facts = new Map(rows.map((r) => [r.address, r]));
  // Acknowledgements of this chunk count against the limit as they are admitted.
  const acks = new Map(rows.map((r) => [r.address, r.recent_acks]));
  return plans.map(([, plan], i) => {
    if (reasons[i]) return reasons[i];
    if (facts.get(plan.to)?.undeliverable) return 'undeliverable';
    if (plan.template !== 'acknowledgement') return null;
    const sent = acks.get(plan.to) ?? 0;
    if (sent >= policy.ackLimitPerHour) return 'rate_limited';
    acks.set(plan.to, sent + 1);
    return null;
  });
}

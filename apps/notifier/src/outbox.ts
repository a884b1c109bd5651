import type pg from 'pg';
import { withTransaction } from '@mailroom/db';
import { deterministicId } from '@mailroom/events';
import { permanentError, transientError } from '@mailroom/kafka';
import { ourMessageId, type ComposedMail } from '@mailroom/mail';
import { SmtpSendError, classifySmtpError, type Mailer } from './mailer.js';
import type { NotifierMetrics } from './notifier-metrics.js';
import { addressSuppression, type SuppressionReason } from './suppression.js';
import type { TemplateName, TemplateParams } from './templates.js';

// Sending is idempotent through this table (DESIGN.md, "Delivery semantics"):
//  1. the row is inserted first, unique per (ticket, template, triggering event), with
//     the decision whether it may be sent at all (suppressed rows record why);
//  2. a pending row is sent while its row lock is held (FOR UPDATE SKIP LOCKED), and
//     marked sent in the same transaction — a second instance or a redelivery finds it
//     locked or sent and never sends it again.
// The one window left: the server accepted the message (250) and the process died
// before COMMIT. The row is still pending and the mail goes out again, with the same
// Message-ID (fixed at insert), so the duplicate is recognisable and clients that
// dedupe by Message-ID show one. The window is one round trip to Postgres (see below).

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
  sent_at: Date | null;
}

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

/** Inserts the outbox row once (with its send-or-suppress decision); returns the stored row. */
export async function enqueue(
  pool: pg.Pool,
  plan: MailPlan,
  policy: OutboxPolicy,
  metrics: NotifierMetrics,
): Promise<OutboxRow> {
  const id = outboxId(plan.ticketId, plan.template, plan.triggerEventId);
  const to = plan.to.trim().toLowerCase();
  return withTransaction(pool, async (db) => {
    const existing = await db.query<OutboxRow>('SELECT * FROM notifier_outbox WHERE id = $1', [id]);
    if (existing.rows[0]) return existing.rows[0];
    // One requester at a time, so two partitions cannot both pass the rate limit.
    await db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`notifier:${to}`]);
    const reason = await suppression(db, to, plan, policy);
    const inserted = await db.query<OutboxRow>(
      `INSERT INTO notifier_outbox (id, ticket_id, template, trigger_event_id, to_address, status, reason, message_id, params)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT DO NOTHING RETURNING *`,
      [
        id,
        plan.ticketId,
        plan.template,
        plan.triggerEventId,
        to,
        reason ? 'suppressed' : 'pending',
        reason,
        ourMessageId(`mailroom.${id}`, policy.messageIdDomain),
        JSON.stringify(plan.params),
      ],
    );
    const row = inserted.rows[0];
    if (!row) {
      const again = await db.query<OutboxRow>('SELECT * FROM notifier_outbox WHERE id = $1', [id]);
      return again.rows[0]!;
    }
    if (reason) metrics.mails.inc({ template: plan.template, outcome: 'suppressed', reason });
    return row;
  });
}

async function suppression(
  db: pg.PoolClient,
  to: string,
  plan: MailPlan,
  policy: OutboxPolicy,
): Promise<SuppressionReason | null> {
  const byAddress = addressSuppression(to, policy.ownAddresses);
  if (byAddress) return byAddress;
  if (plan.automated) return 'automated_sender';
  const bounced = await db.query('SELECT 1 FROM undeliverable_addresses WHERE address = $1', [to]);
  if (bounced.rowCount) return 'undeliverable';
  if (plan.template === 'acknowledgement') {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM notifier_outbox
       WHERE to_address = $1 AND template = 'acknowledgement' AND status IN ('pending', 'sent')
         AND created_at > now() - interval '1 hour'`,
      [to],
    );
    if ((rows[0]?.n ?? 0) >= policy.ackLimitPerHour) return 'rate_limited';
  }
  return null;
}

export interface DeliverDeps {
  pool: pg.Pool;
  mailer: Mailer;
  compose: (row: OutboxRow) => ComposedMail;
  metrics: NotifierMetrics;
}

/** Sends a pending row under its row lock and marks it sent; returns the row as stored. */
export async function deliver(deps: DeliverDeps, id: string): Promise<OutboxRow> {
  const { pool, mailer, metrics } = deps;
  const db = await pool.connect();
  let open = false;
  let broken: Error | undefined;
  try {
    await db.query('BEGIN');
    open = true;
    const { rows } = await db.query<OutboxRow>(
      'SELECT * FROM notifier_outbox WHERE id = $1 FOR UPDATE SKIP LOCKED',
      [id],
    );
    const row = rows[0];
    if (!row) {
      // Another instance is sending it right now: look again later (it may crash).
      throw transientError('OUTBOX_ROW_BUSY', `outbox row ${id} is locked by another sender`);
    }
    if (row.status !== 'pending') {
      await db.query('COMMIT');
      open = false;
      return row;
    }
    const fail = async (status: 'pending' | 'failed', reason: string | null, error: string) => {
      await db.query(
        `UPDATE notifier_outbox SET status = $2, reason = $3, last_error = $4, attempts = attempts + 1,
           updated_at = now() WHERE id = $1`,
        [id, status, reason, error.slice(0, 2000)],
      );
      await db.query('COMMIT');
      open = false;
    };
    let mail: ComposedMail;
    try {
      mail = deps.compose(row);
    } catch (err) {
      await fail('failed', 'compose_failed', (err as Error).message);
      metrics.mails.inc({ template: row.template, outcome: 'failed', reason: 'compose_failed' });
      throw permanentError('MAIL_COMPOSE_FAILED', (err as Error).message, err);
    }
    const end = metrics.smtpSeconds.startTimer();
    let response: string;
    try {
      response = (await mailer.send(mail)).response;
      end({ outcome: 'sent' });
    } catch (err) {
      const smtp = err instanceof SmtpSendError ? err : classifySmtpError(err);
      end({ outcome: smtp.permanent ? 'rejected' : 'failed' });
      const reason = smtp.permanent ? `smtp_${smtp.responseCode ?? '5xx'}` : null;
      await fail(smtp.permanent ? 'failed' : 'pending', reason, smtp.message);
      metrics.smtpFailures.inc({ kind: smtp.permanent ? 'rejected' : 'unavailable' });
      metrics.mails.inc({
        template: row.template,
        outcome: smtp.permanent ? 'failed' : 'deferred',
        reason: smtp.permanent ? 'smtp_rejected' : 'smtp_unavailable',
      });
      throw smtp.permanent
        ? permanentError('SMTP_REJECTED', smtp.message, smtp)
        : transientError('SMTP_UNAVAILABLE', smtp.message, smtp);
    }
    // Mark and COMMIT in one round trip (one simple-protocol query, values escaped by
    // pg): the time between the server's 250 and a durable "sent" is what a crash can
    // hit, so it is kept to a single network exchange.
    const sentAt = new Date();
    await db.query(
      `UPDATE notifier_outbox SET status = 'sent', sent_at = ${db.escapeLiteral(sentAt.toISOString())},
         smtp_response = ${db.escapeLiteral(response.slice(0, 1000))}, attempts = attempts + 1,
         updated_at = now() WHERE id = ${db.escapeLiteral(id)}; COMMIT`,
    );
    open = false;
    metrics.mails.inc({ template: row.template, outcome: 'sent', reason: '' });
    return { ...row, status: 'sent', sent_at: sentAt, attempts: row.attempts + 1 };
  } catch (err) {
    if (open) {
      await db.query('ROLLBACK').catch((e: Error) => (broken = e));
    }
    throw err;
  } finally {
    db.release(broken);
  }
}

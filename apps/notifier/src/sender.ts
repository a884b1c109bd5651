import type pg from 'pg';
import { permanentError, transientError, type ProcessingError } from '@mailroom/kafka';
import type { ComposedMail } from '@mailroom/mail';
import { SmtpSendError, classifySmtpError, type Mailer } from './mailer.js';
import type { NotifierMetrics } from './notifier-metrics.js';
import { ROW_COLUMNS, type OutboxRow } from './outbox.js';

// Sends pending outbox rows over a few lanes at once (SMTP_POOL_SIZE connections are
// kept busy). A lane is one Postgres connection that handles one row at a time:
//   BEGIN; SELECT the row FOR UPDATE SKIP LOCKED   — claimed (or busy: someone else has it)
//   SMTP send                                        — only while the lock is held
//   UPDATE … 'sent'; COMMIT                          — the next exchange after the 250
// When the lane has another row waiting, that "UPDATE; COMMIT" and the next row's
// "BEGIN; SELECT … FOR UPDATE" go out together in one simple-protocol round trip, so a
// mail costs one round trip to Postgres and the time between the server's 250 and a
// durable "sent" stays one exchange per mail, whatever the size of the batch.

export interface SenderDeps {
  pool: pg.Pool;
  mailer: Mailer;
  compose: (row: OutboxRow) => ComposedMail;
  metrics: NotifierMetrics;
  /** Rows in flight at once (each holds one Postgres connection while it is sent). */
  lanes: number;
}

/** The row as stored after the attempt, or why it could not be settled now. */
export type Delivery = { row: OutboxRow; error?: undefined } | { row?: undefined; error: Error };

interface Job {
  id: string;
  group: { halted: boolean };
  resolve: (d: Delivery) => void;
}

export interface Sender {
  /** Sends what is still pending among these rows; one result per row, in order. */
  deliver(rows: OutboxRow[]): Promise<Delivery[]>;
}

const busy = (id: string) =>
  transientError('OUTBOX_ROW_BUSY', `outbox row ${id} is locked by another sender`);

const SELECT_CLAIM = (db: pg.ClientBase, id: string) =>
  `BEGIN; SELECT ${ROW_COLUMNS} FROM notifier_outbox WHERE id = ${db.escapeLiteral(id)} FOR UPDATE SKIP LOCKED`;

export function createSender(deps: SenderDeps): Sender {
  const { pool, mailer, metrics } = deps;
  const queue: Job[] = [];
  let lanes = 0;

  /** The next job of a group that is still going; halted groups' jobs are settled unsent. */
  const next = (): Job | undefined => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      if (!job.group.halted) return job;
      job.resolve({
        error: transientError('DELIVERY_DEFERRED', 'not attempted after a failure in its batch'),
      });
    }
    return undefined;
  };

  /** Statements run on the lane's transaction; a failure leaves the connection unusable. */
  async function run(db: pg.PoolClient, sql: string): Promise<pg.QueryResult<OutboxRow>> {
    const results = (await db.query(sql)) as unknown as
      pg.QueryResult<OutboxRow>[] | pg.QueryResult<OutboxRow>;
    return Array.isArray(results) ? results.at(-1)! : results;
  }

  const failSql = (
    db: pg.ClientBase,
    id: string,
    status: 'pending' | 'failed',
    reason: string | null,
    error: string,
  ) =>
    `UPDATE notifier_outbox SET status = ${db.escapeLiteral(status)}, reason = ${
      reason === null ? 'NULL' : db.escapeLiteral(reason)
    }, last_error = ${db.escapeLiteral(error.slice(0, 2000))}, attempts = attempts + 1,
       updated_at = now() WHERE id = ${db.escapeLiteral(id)}; COMMIT`;

  /** Sends a claimed pending row. Returns the statements that settle it and its result. */
  async function send(
    db: pg.ClientBase,
    row: OutboxRow,
  ): Promise<{ sql: string; delivery: Delivery; urgent: boolean }> {
    let mail: ComposedMail;
    try {
      mail = deps.compose(row);
    } catch (err) {
      const message = (err as Error).message;
      metrics.mails.inc({ template: row.template, outcome: 'failed', reason: 'compose_failed' });
      return {
        sql: failSql(db, row.id, 'failed', 'compose_failed', message),
        delivery: { error: permanentError('MAIL_COMPOSE_FAILED', message, err) },
        urgent: false,
      };
    }
    const end = metrics.smtpSeconds.startTimer();
    try {
      const response = (await mailer.send(mail)).response;
      end({ outcome: 'sent' });
      metrics.mails.inc({ template: row.template, outcome: 'sent', reason: '' });
      const sentAt = new Date();
      return {
        sql: `UPDATE notifier_outbox SET status = 'sent', sent_at = ${db.escapeLiteral(sentAt.toISOString())},
           smtp_response = ${db.escapeLiteral(response.slice(0, 1000))}, attempts = attempts + 1,
           updated_at = now() WHERE id = ${db.escapeLiteral(row.id)}; COMMIT`,
        delivery: { row: { ...row, status: 'sent', sent_at: sentAt, attempts: row.attempts + 1 } },
        urgent: true,
      };
    } catch (err) {
      const smtp = err instanceof SmtpSendError ? err : classifySmtpError(err);
      end({ outcome: smtp.permanent ? 'rejected' : 'failed' });
      metrics.smtpFailures.inc({ kind: smtp.permanent ? 'rejected' : 'unavailable' });
      metrics.mails.inc({
        template: row.template,
        outcome: smtp.permanent ? 'failed' : 'deferred',
        reason: smtp.permanent ? 'smtp_rejected' : 'smtp_unavailable',
      });
      const reason = smtp.permanent ? `smtp_${smtp.responseCode ?? '5xx'}` : null;
      return {
        sql: failSql(db, row.id, smtp.permanent ? 'failed' : 'pending', reason, smtp.message),
        delivery: {
          error: smtp.permanent
            ? permanentError('SMTP_REJECTED', smtp.message, smtp)
            : transientError('SMTP_UNAVAILABLE', smtp.message, smtp),
        },
        urgent: false,
      };
    }
  }

  /** One lane: takes jobs until the queue is empty, then gives its connection back. */
  async function lane(): Promise<void> {
    let db: pg.PoolClient | undefined;
    // What settles the previous row: sent with the next claim, or on its own.
    let tail: { sql: string; job?: Job; delivery?: Delivery } | undefined;
    const settle = (error?: Error) => {
      tail?.job?.resolve(error ? { error } : tail.delivery!);
      tail = undefined;
    };
    try {
      for (;;) {
        const job = next();
        if (!job && !tail) break;
        try {
          db ??= await pool.connect();
          if (!job) {
            await run(db, tail!.sql);
            settle();
            continue; // jobs may have come in meanwhile
          }
          const claimSql = SELECT_CLAIM(db, job.id);
          const claimed = await run(db, tail ? `${tail.sql}; ${claimSql}` : claimSql);
          settle();
          const row = claimed.rows[0];
          if (!row || row.status !== 'pending') {
            tail = { sql: 'COMMIT' };
            job.resolve(row ? { row } : { error: busy(job.id) });
            continue;
          }
          const sent = await send(db, row);
          tail = { sql: sent.sql, job, delivery: sent.delivery };
          if ((sent.delivery.error as ProcessingError | undefined)?.retriable) {
            job.group.halted = true; // SMTP is down: the rest of this batch waits for the retry
          }
          // A failure is written now; a "sent" goes out with the next claim if there is
          // one right away, never later than that.
          if (!sent.urgent || queue.length === 0) {
            await run(db, tail.sql);
            settle();
          }
        } catch (err) {
          // Postgres failed under us: what was in flight is unsettled (a mail sent but
          // not marked goes out again on the retry, with its Message-ID).
          settle(err as Error);
          job?.resolve({ error: err as Error });
          if (job) job.group.halted = true;
          db?.release(err as Error);
          db = undefined;
        }
      }
    } finally {
      lanes--;
      db?.release();
    }
  }

  return {
    deliver(rows) {
      const group = { halted: false };
      const results = rows.map(
        (row) => new Promise<Delivery>((resolve) => queue.push({ id: row.id, group, resolve })),
      );
      for (let n = Math.min(deps.lanes - lanes, queue.length); n > 0; n--) {
        lanes++;
        void lane();
      }
      return Promise.all(results);
    },
  };
}

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type pg from 'pg';

export interface NotifierMetrics {
  /** outcome: sent, suppressed, failed (permanent), deferred (transient, retried). */
  mails: Counter<'template' | 'outcome' | 'reason'>;
  smtpSeconds: Histogram<'outcome'>;
  /** Every failed SMTP send: rejected (5xx) or unavailable (4xx, refused, timeout). */
  smtpFailures: Counter<'kind'>;
}

export function createNotifierMetrics(registry: Registry, pool: pg.Pool): NotifierMetrics {
  new Gauge({
    name: 'mailroom_notifier_outbox_pending',
    help: 'Outbox rows waiting to be sent (grows while SMTP is down).',
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM notifier_outbox WHERE status = 'pending'",
      );
      this.set(rows[0]?.n ?? 0);
    },
  });
  const smtpFailures = new Counter({
    name: 'mailroom_smtp_send_failures_total',
    help: 'Failed SMTP sends: rejected (5xx, dead-lettered) or unavailable (retried).',
    labelNames: ['kind'],
    registers: [registry],
  });
  // Both kinds exist at 0 from the start, so the SMTP alert and panel see a series.
  for (const kind of ['rejected', 'unavailable']) smtpFailures.inc({ kind }, 0);
  return {
    smtpFailures,
    mails: new Counter({
      name: 'mailroom_notifier_mails_total',
      help: 'Outbound mails by template, outcome (sent, suppressed, failed, deferred) and reason.',
      labelNames: ['template', 'outcome', 'reason'],
      registers: [registry],
    }),
    smtpSeconds: new Histogram({
      name: 'mailroom_notifier_smtp_send_seconds',
      help: 'Time of one SMTP send, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

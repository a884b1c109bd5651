import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The poller's metrics, one series per mailbox name (a handful: low cardinality). */
export function pollerMetrics(registry: Registry) {
  const mailbox = ['mailbox'];
  return {
    connected: new Gauge({
      name: 'mailroom_imap_connected',
      help: '1 while the IMAP connection of a mailbox is up.',
      labelNames: mailbox,
      registers: [registry],
    }),
    idling: new Gauge({
      name: 'mailroom_imap_idling',
      help: '1 while a mailbox waits in IMAP IDLE (push) for new mail.',
      labelNames: mailbox,
      registers: [registry],
    }),
    lastFetch: new Gauge({
      name: 'mailroom_imap_last_fetch_timestamp_seconds',
      help: 'Unix time of the last completed sync of a mailbox.',
      labelNames: mailbox,
      registers: [registry],
    }),
    backlog: new Gauge({
      name: 'mailroom_imap_backlog_messages',
      help: 'Messages above the checkpoint not yet produced to Kafka, as of the last sync.',
      labelNames: mailbox,
      registers: [registry],
    }),
    messages: new Counter({
      name: 'mailroom_imap_messages_total',
      help: 'Messages ingested, by outcome (produced, dead_lettered, oversized, bounce).',
      labelNames: ['mailbox', 'outcome'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'mailroom_imap_errors_total',
      help: 'Connection and sync failures of a mailbox, by stable error code.',
      labelNames: ['mailbox', 'code'],
      registers: [registry],
    }),
    reconnects: new Counter({
      name: 'mailroom_imap_reconnects_total',
      help: 'Reconnection attempts after a lost or failed IMAP connection.',
      labelNames: mailbox,
      registers: [registry],
    }),
    uidValidityChanges: new Counter({
      name: 'mailroom_imap_uidvalidity_changes_total',
      help: 'UIDVALIDITY changes seen (each triggers a full, deduplicated re-scan).',
      labelNames: mailbox,
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'mailroom_imap_batch_seconds',
      help: 'Time to parse, store, produce and checkpoint one batch of messages.',
      labelNames: mailbox,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}
export type PollerMetrics = ReturnType<typeof pollerMetrics>;

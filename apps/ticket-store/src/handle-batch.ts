import type pg from 'pg';
import { withTransaction } from '@mailroom/db';
import { decodeEvent, type Envelope, type EventType } from '@mailroom/events';
import type { BatchHandler, ConsumedRecord, MailroomProducer } from '@mailroom/kafka';
import { applyLifecycleBatch } from './apply-lifecycle.js';
import { emit } from './emit.js';
import { applySubmissions } from './handle-submission.js';

/** Records ticket-store itself emits, or that another app applies: nothing to do. */
const IGNORED: ReadonlySet<string> = new Set<EventType>([
  'ticket.created',
  'ticket.message_added',
  'ticket.status_changed',
  'ticket.updated',
  'ticket.command_rejected',
  'command.route_ticket',
]);

/** True when the record's type header says there is nothing to apply (no parse needed). */
export const isIgnored = (record: ConsumedRecord): boolean =>
  IGNORED.has(record.headers['event-type'] ?? '');

/** Types applied inside the batch transaction; the rest go through their own handlers. */
const IN_BATCH: ReadonlySet<string> = new Set<EventType>([
  'raw.api_submission',
  'ticket.categorized',
  'ticket.routed',
  'ticket.rerouted',
  'ticket.acknowledged',
]);

/**
 * The fast path of the consumer loop: API submissions and lifecycle events of a chunk are
 * applied in ONE transaction (one commit instead of one per record: the commit's flush is
 * what bounds throughput) and set-based, a few statements for the whole chunk (see
 * applySubmissions, applyLifecycleBatch); mails and commands keep their own
 * transactions. Facts are emitted after the commit, in one produce request. Any failure
 * makes the loop handle the chunk record by record, so a bad record is isolated.
 */
export function createBatchHandler(
  pool: pg.Pool,
  producer: MailroomProducer,
  handleOne: (event: Envelope) => Promise<Envelope[]>,
): BatchHandler {
  return async (records) => {
    const events: Envelope[] = [];
    // Which partition each event came from: the ones handled on their own (mails,
    // commands) keep their partition's order, and partitions go side by side.
    const lanes: string[] = [];
    for (const r of records) {
      if (isIgnored(r)) continue;
      events.push(decodeEvent(r.value));
      lanes.push(`${r.topic}:${r.partition}`);
    }
    const submissions: Envelope<'raw.api_submission'>['payload'][] = [];
    const lifecycle: Envelope[] = [];
    for (const e of events) {
      if (e.type === 'raw.api_submission')
        submissions.push(e.payload as Envelope<'raw.api_submission'>['payload']);
      else if (IN_BATCH.has(e.type)) lifecycle.push(e);
    }
    const facts: Envelope[] = [];
    if (submissions.length > 0 || lifecycle.length > 0) {
      await withTransaction(pool, async (db) => {
        facts.push(...(await applySubmissions(db, submissions)));
        if (lifecycle.length > 0) await applyLifecycleBatch(db, lifecycle);
      });
    }
    const own = new Map<string, Envelope[]>();
    events.forEach((e, i) => {
      if (IN_BATCH.has(e.type)) return;
      const lane = own.get(lanes[i]!);
      if (lane) lane.push(e);
      else own.set(lanes[i]!, [e]);
    });
    const results = await Promise.allSettled(
      [...own.values()].map(async (lane) => {
        const out: Envelope[] = [];
        for (const e of lane) out.push(...(await handleOne(e)));
        return out;
      }),
    );
    // A failure fails the chunk once every lane has stopped (the retry, or the records
    // one by one, find the applied ones done and emit their facts then).
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const r of results) if (r.status === 'fulfilled') facts.push(...r.value);
    await emit(producer, facts);
  };
}

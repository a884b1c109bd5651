import type pg from 'pg';
import { CATALOG, decodeEvent, type Envelope } from '@mailroom/events';
import type { BatchHandler, ConsumedRecord, RecordHandler } from '@mailroom/kafka';
import type { Counter } from 'prom-client';
import { applyEvent, type ApplyOutcome } from './apply-event.js';
import { applyEvents } from './apply-events.js';
import type { PriceTable } from './pricing.js';
import { ROLLED_UP_TYPES } from './reduce.js';

/**
 * A record of a known type that changes no rollup (a command rejection): skipped by its
 * type header, without parsing. A record without the header, or of an unknown type, is
 * decoded, so that what cannot be read is dead-lettered.
 */
export function isIgnored(record: ConsumedRecord): boolean {
  const type = record.headers['event-type'];
  return type !== undefined && type in CATALOG && !ROLLED_UP_TYPES.has(type);
}

/** The consumer loop's handlers: chunks in one transaction, single records as fallback. */
export function createHandlers(
  pool: pg.Pool,
  prices: PriceTable,
  seen: Counter<'type' | 'outcome'>,
): { handler: RecordHandler; batchHandler: BatchHandler } {
  return {
    handler: async (record) => {
      if (isIgnored(record)) return;
      const event = decodeEvent(record.value);
      seen.inc({ type: event.type, outcome: await applyEvent(pool, event, prices) });
    },
    batchHandler: async (records) => {
      const events: Envelope[] = [];
      for (const r of records) if (!isIgnored(r)) events.push(decodeEvent(r.value));
      const outcomes = await applyEvents(pool, events, prices);
      // One counter update per type and outcome, not per record.
      const counts = new Map<string, { type: string; outcome: ApplyOutcome; n: number }>();
      events.forEach((e, i) => {
        const outcome = outcomes[i]!;
        const key = `${e.type}\u0000${outcome}`;
        const c = counts.get(key);
        if (c) c.n++;
        else counts.set(key, { type: e.type, outcome, n: 1 });
      });
      for (const { type, outcome, n } of counts.values()) seen.inc({ type, outcome }, n);
    },
  };
}

import type pg from 'pg';
import { withTransaction } from '@mailroom/db';
import type { Envelope } from '@mailroom/events';
import { factsOf, type ApplyOutcome, type FactsRow } from './apply-event.js';
import type { PriceTable } from './pricing.js';
import { EMPTY_FACTS, reduce, type TicketFacts } from './reduce.js';
import { applyDeltasBatch, sumDeltas, type Delta } from './rollup-tables.js';

// uuid text as Postgres returns it: the keys of the in-memory maps.
const norm = (uuid: string) => uuid.toLowerCase();

const SAVE_FACTS = `INSERT INTO analytics_tickets (ticket_id, created_at, channel, department, category,
    priority, status, counted, routed_department, routed_mode, rerouted, acknowledged_at,
    first_response_at, resolved_at, updated_at)
  SELECT u.*, now() FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
    $6::text[], $7::text[], $8::bool[], $9::text[], $10::text[], $11::bool[], $12::timestamptz[],
    $13::timestamptz[], $14::timestamptz[]) AS u
  ON CONFLICT (ticket_id) DO UPDATE SET created_at = EXCLUDED.created_at,
    channel = EXCLUDED.channel, department = EXCLUDED.department, category = EXCLUDED.category,
    priority = EXCLUDED.priority, status = EXCLUDED.status, counted = EXCLUDED.counted,
    routed_department = EXCLUDED.routed_department, routed_mode = EXCLUDED.routed_mode,
    rerouted = EXCLUDED.rerouted, acknowledged_at = EXCLUDED.acknowledged_at,
    first_response_at = EXCLUDED.first_response_at, resolved_at = EXCLUDED.resolved_at,
    updated_at = now()`;

async function saveFacts(client: pg.ClientBase, facts: Map<string, TicketFacts>): Promise<void> {
  const all = [...facts.entries()];
  const col = <T>(get: (f: TicketFacts) => T) => all.map(([, f]) => get(f));
  await client.query({
    name: 'analytics-save-facts',
    text: SAVE_FACTS,
    values: [
      all.map(([id]) => id),
      col((f) => f.createdAt),
      col((f) => f.channel),
      col((f) => f.department),
      col((f) => f.category),
      col((f) => f.priority),
      col((f) => f.status),
      col((f) => f.counted),
      col((f) => f.routedDepartment),
      col((f) => f.routedMode),
      col((f) => f.rerouted),
      col((f) => f.acknowledgedAt),
      col((f) => f.firstResponseAt),
      col((f) => f.resolvedAt),
    ],
  });
}

/**
 * The batch twin of applyEvent: consecutive events of one partition in ONE transaction,
 * with a fixed number of statements whatever their count (ledger, lock and read the
 * touched tickets, save their facts, one upsert per rollup table). The tables it leaves
 * are exactly those applyEvent leaves for the same events one by one: events are reduced
 * in record order on the same facts, and each event's deltas are merged on their own
 * before they are summed (a row one event creates and a later one brings back to 0
 * exists either way). Returns the outcome of each event, in order; an event repeated in
 * the chunk is a duplicate after its first occurrence.
 */
export async function applyEvents(
  pool: pg.Pool,
  events: readonly Envelope[],
  prices: PriceTable,
): Promise<ApplyOutcome[]> {
  if (events.length === 0) return [];
  const first = new Map<string, number>();
  events.forEach((e, i) => {
    if (!first.has(norm(e.id))) first.set(norm(e.id), i);
  });
  const candidates = [...first.values()].map((i) => events[i]!);
  return withTransaction(pool, async (client) => {
    const ledger = await client.query<{ event_id: string }>({
      name: 'analytics-ledger-batch',
      text: `INSERT INTO analytics_applied_events (event_id, event_type, ticket_id)
               SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[])
             ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
      values: [
        candidates.map((e) => e.id),
        candidates.map((e) => e.type),
        candidates.map((e) => e.ticketId),
      ],
    });
    const fresh = new Set(ledger.rows.map((r) => r.event_id));
    const outcomes = events.map((e, i): ApplyOutcome => {
      const id = norm(e.id);
      return first.get(id) === i && fresh.has(id) ? 'applied' : 'duplicate';
    });
    const toReduce = events.filter((e, i) => outcomes[i] === 'applied' && e.ticketId);
    if (toReduce.length === 0) return outcomes;

    // Sorted: concurrent transactions (a rebalance) lock the tickets in one order.
    const ticketIds = [...new Set(toReduce.map((e) => norm(e.ticketId!)))].sort();
    await client.query({
      name: 'analytics-facts-ensure',
      text: 'INSERT INTO analytics_tickets (ticket_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING',
      values: [ticketIds],
    });
    const { rows } = await client.query<FactsRow & { ticket_id: string }>({
      name: 'analytics-facts-lock',
      text: 'SELECT * FROM analytics_tickets WHERE ticket_id = ANY($1::uuid[]) ORDER BY ticket_id FOR UPDATE',
      values: [ticketIds],
    });
    const facts = new Map<string, TicketFacts>(ticketIds.map((id) => [id, EMPTY_FACTS]));
    for (const row of rows) facts.set(row.ticket_id, factsOf(row));

    const perEvent: Delta[][] = [];
    for (const e of toReduce) {
      const id = norm(e.ticketId!);
      const reduced = reduce(facts.get(id)!, e, prices);
      facts.set(id, reduced.facts);
      perEvent.push(reduced.deltas);
    }
    await saveFacts(client, facts);
    await applyDeltasBatch(client, sumDeltas(perEvent));
    return outcomes;
  });
}

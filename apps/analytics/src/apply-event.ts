import type pg from 'pg';
import { withTransaction } from '@mailroom/db';
import type { Envelope } from '@mailroom/events';
import type { PriceTable } from './pricing.js';
import { EMPTY_FACTS, reduce, type TicketFacts } from './reduce.js';
import { applyDeltas, mergeDeltas } from './rollup-tables.js';

export type ApplyOutcome = 'applied' | 'duplicate';

export interface FactsRow {
  created_at: Date | null;
  channel: string | null;
  department: string | null;
  category: string | null;
  priority: string | null;
  status: string | null;
  counted: boolean;
  routed_department: string | null;
  routed_mode: 'auto' | 'manual' | null;
  rerouted: boolean;
  acknowledged_at: Date | null;
  first_response_at: Date | null;
  resolved_at: Date | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function factsOf(row: FactsRow | undefined): TicketFacts {
  if (!row) return EMPTY_FACTS;
  return {
    createdAt: iso(row.created_at),
    channel: row.channel,
    department: row.department,
    category: row.category,
    priority: row.priority,
    status: row.status,
    counted: row.counted,
    routedDepartment: row.routed_department,
    routedMode: row.routed_mode,
    rerouted: row.rerouted,
    acknowledgedAt: iso(row.acknowledged_at),
    firstResponseAt: iso(row.first_response_at),
    resolvedAt: iso(row.resolved_at),
  };
}

async function saveFacts(client: pg.ClientBase, ticketId: string, f: TicketFacts): Promise<void> {
  await client.query(
    `INSERT INTO analytics_tickets (ticket_id, created_at, channel, department, category, priority,
       status, counted, routed_department, routed_mode, rerouted, acknowledged_at, first_response_at,
       resolved_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now())
     ON CONFLICT (ticket_id) DO UPDATE SET created_at = $2, channel = $3, department = $4,
       category = $5, priority = $6, status = $7, counted = $8, routed_department = $9,
       routed_mode = $10, rerouted = $11, acknowledged_at = $12, first_response_at = $13,
       resolved_at = $14, updated_at = now()`,
    [
      ticketId,
      f.createdAt,
      f.channel,
      f.department,
      f.category,
      f.priority,
      f.status,
      f.counted,
      f.routedDepartment,
      f.routedMode,
      f.rerouted,
      f.acknowledgedAt,
      f.firstResponseAt,
      f.resolvedAt,
    ],
  );
}

/**
 * Applies one event exactly once: the ledger row, the ticket's facts and the rollup
 * changes commit together, so a redelivered event finds its ledger row and changes
 * nothing. Events of one ticket arrive in order (one partition); the row lock orders
 * them across instances during a rebalance.
 */
export async function applyEvent(
  pool: pg.Pool,
  event: Envelope,
  prices: PriceTable,
): Promise<ApplyOutcome> {
  // Postgres faults (restart, deadlock) propagate as they are: the consumer loop's
  // classifyError retries them without limit; everything else is a bug to dead-letter.
  return withTransaction(pool, async (client) => {
    const fresh = await client.query(
      `INSERT INTO analytics_applied_events (event_id, event_type, ticket_id) VALUES ($1, $2, $3)
         ON CONFLICT (event_id) DO NOTHING`,
      [event.id, event.type, event.ticketId],
    );
    if (fresh.rowCount === 0) return 'duplicate';
    if (!event.ticketId) return 'applied'; // nothing per ticket to roll up
    await client.query(
      'INSERT INTO analytics_tickets (ticket_id) VALUES ($1) ON CONFLICT DO NOTHING',
      [event.ticketId],
    );
    const { rows } = await client.query<FactsRow>(
      'SELECT * FROM analytics_tickets WHERE ticket_id = $1 FOR UPDATE',
      [event.ticketId],
    );
    const { facts, deltas } = reduce(factsOf(rows[0]), event, prices);
    await saveFacts(client, event.ticketId, facts);
    await applyDeltas(client, mergeDeltas(deltas));
    return 'applied';
  });
}

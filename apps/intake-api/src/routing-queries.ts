import type pg from 'pg';
import type { RoutingEntry } from './schemas.js';

// Read side of the router's history, the per-department figures, and command outcomes.

interface RoutingRow {
  event_id: string;
  ticket_id: string;
  kind: string;
  department: string;
  previous_department: string | null;
  rule: string;
  confidence: number | null;
  decided_by: string;
  reason: string | null;
  at: Date;
}

const toRouting = (r: RoutingRow): RoutingEntry => ({
  eventId: r.event_id,
  ticketId: r.ticket_id,
  kind: r.kind,
  department: r.department,
  previousDepartment: r.previous_department,
  rule: r.rule,
  confidence: r.confidence,
  decidedBy: r.decided_by,
  reason: r.reason,
  at: r.at.toISOString(),
});

export async function routingHistory(pool: pg.Pool, ticketId: string): Promise<RoutingEntry[]> {
  const { rows } = await pool.query<RoutingRow>(
    'SELECT * FROM routing_history WHERE ticket_id = $1 ORDER BY at, event_id',
    [ticketId],
  );
  return rows.map(toRouting);
}

/** Routing figures per department, from the router's history. */
export async function routingStatistics(pool: pg.Pool) {
  const { rows } = await pool.query<{
    department: string;
    routed: string;
    rerouted_in: string;
    rerouted_out: string;
    average_confidence: number | null;
  }>(
    `WITH d AS (
       SELECT department FROM routing_history
       UNION SELECT previous_department FROM routing_history WHERE previous_department IS NOT NULL)
     SELECT d.department,
       (SELECT count(*) FROM routing_history r WHERE r.department = d.department AND r.kind = 'routed') AS routed,
       (SELECT count(*) FROM routing_history r WHERE r.department = d.department AND r.kind = 'rerouted') AS rerouted_in,
       (SELECT count(*) FROM routing_history r WHERE r.previous_department = d.department AND r.kind = 'rerouted') AS rerouted_out,
       (SELECT avg(confidence) FROM routing_history r WHERE r.department = d.department AND r.kind = 'routed') AS average_confidence
     FROM d ORDER BY d.department`,
  );
  return rows.map((r) => {
    const routed = Number(r.routed);
    const out = Number(r.rerouted_out);
    return {
      department: r.department,
      routed,
      reroutedIn: Number(r.rerouted_in),
      reroutedOut: out,
      averageConfidence: r.average_confidence,
      rerouteRate: routed > 0 ? out / routed : null,
    };
  });
}

/** Open (not resolved or closed) tickets per department. */
export async function openTicketCounts(pool: pg.Pool): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ department: string; n: string }>(
    `SELECT department, count(*) AS n FROM tickets
     WHERE department IS NOT NULL AND status IN ('pending', 'in_progress') GROUP BY department`,
  );
  return new Map(rows.map((r) => [r.department, Number(r.n)]));
}

/** What became of a command: pending until ticket-store (or the router) recorded it. */
export async function commandStatus(pool: pg.Pool, commandId: string) {
  const { rows } = await pool.query<{
    ticket_id: string;
    kind: string;
    outcome: 'applied' | 'rejected';
    code: string | null;
    reason: string | null;
    at: Date;
  }>('SELECT * FROM ticket_commands WHERE command_id = $1', [commandId]);
  const r = rows[0];
  return {
    commandId,
    ticketId: r?.ticket_id ?? null,
    outcome: r?.outcome ?? ('pending' as const),
    kind: r?.kind ?? null,
    code: r?.code ?? null,
    reason: r?.reason ?? null,
    at: r ? r.at.toISOString() : null,
  };
}

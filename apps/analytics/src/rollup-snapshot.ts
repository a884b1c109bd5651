import type pg from 'pg';

// One read of every rollup per scrape: the collectors of one /metrics request share it.

export interface Row {
  [label: string]: string | number;
}

export interface RollupSnapshot {
  /** department, category, priority, channel, status → tickets */
  states: Row[];
  /** from_status, to_status → transitions */
  transitions: Row[];
  /** metric, department, priority, le → observations (per bucket) */
  durationBuckets: Row[];
  /** metric, department, priority → observations, sum_seconds */
  durationTotals: Row[];
  /** department, mode → routed, rerouted_away */
  routing: Row[];
  /** from_department, to_department, actor_type → reroutes */
  reroutes: Row[];
  /** method, department, confidence_le → categorizations, confidence_sum, needs_review */
  categorizations: Row[];
  /** method, model → calls, latency_sum_seconds, *_tokens, cost_usd */
  llmUsage: Row[];
  /** method, model, le → calls */
  llmLatency: Row[];
}

const QUERIES: Record<keyof RollupSnapshot, string> = {
  states: `SELECT department, category, priority, channel, status, tickets::float8 AS tickets
           FROM analytics_ticket_states`,
  transitions: `SELECT from_status, to_status, sum(transitions)::float8 AS transitions
                FROM analytics_status_transitions GROUP BY 1, 2`,
  durationBuckets: `SELECT metric, department, priority, le, observations::float8 AS observations
                    FROM analytics_duration_buckets`,
  durationTotals: `SELECT metric, department, priority, observations::float8 AS observations, sum_seconds
                   FROM analytics_duration_totals`,
  routing: `SELECT department, mode, routed::float8 AS routed, rerouted_away::float8 AS rerouted_away
            FROM analytics_routing`,
  reroutes: `SELECT from_department, to_department, actor_type, reroutes::float8 AS reroutes
             FROM analytics_reroutes`,
  categorizations: `SELECT method, department, confidence_le, categorizations::float8 AS categorizations,
                      confidence_sum, needs_review::float8 AS needs_review FROM analytics_categorizations`,
  llmUsage: `SELECT method, model, calls::float8 AS calls, latency_sum_seconds,
               input_tokens::float8 AS input_tokens, output_tokens::float8 AS output_tokens,
               cache_read_tokens::float8 AS cache_read_tokens,
               cache_write_tokens::float8 AS cache_write_tokens, cost_usd
             FROM analytics_llm_usage`,
  llmLatency: `SELECT method, model, le, calls::float8 AS calls FROM analytics_llm_latency_buckets`,
};

async function load(pool: pg.Pool): Promise<RollupSnapshot> {
  const names = Object.keys(QUERIES) as (keyof RollupSnapshot)[];
  // One connection, one snapshot: the figures of a scrape agree with each other.
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const out = {} as RollupSnapshot;
    for (const n of names) out[n] = (await client.query<Row>(QUERIES[n])).rows;
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Loads the snapshot at most once per `maxAgeMs`; concurrent callers share one load. */
export function snapshotReader(pool: pg.Pool, maxAgeMs = 1000): () => Promise<RollupSnapshot> {
  let current: { at: number; value: Promise<RollupSnapshot> } | undefined;
  return () => {
    const now = Date.now();
    if (!current || now - current.at > maxAgeMs) {
      const value = load(pool);
      current = { at: now, value };
      // A failed load must not be served to the next scrape.
      void value.catch(() => {
        if (current?.value === value) current = undefined;
      });
    }
    return current.value;
  };
}

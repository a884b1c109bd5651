import type pg from 'pg';

/** The additive rollup tables: key columns and the columns that deltas add to. */
export const ROLLUP_TABLES = {
  analytics_ticket_volume: {
    keys: ['hour', 'department', 'category', 'priority', 'channel'],
    values: ['tickets'],
  },
  analytics_ticket_states: {
    keys: ['department', 'category', 'priority', 'channel', 'status'],
    values: ['tickets'],
  },
  analytics_status_transitions: {
    keys: ['hour', 'department', 'from_status', 'to_status'],
    values: ['transitions'],
  },
  analytics_duration_buckets: {
    keys: ['metric', 'department', 'priority', 'le'],
    values: ['observations'],
  },
  analytics_duration_totals: {
    keys: ['metric', 'department', 'priority'],
    values: ['observations', 'sum_seconds'],
  },
  analytics_routing: {
    keys: ['department', 'mode'],
    values: ['routed', 'rerouted_away', 'confidence_sum'],
  },
  analytics_reroutes: {
    keys: ['from_department', 'to_department', 'actor_type'],
    values: ['reroutes'],
  },
  analytics_categorizations: {
    keys: ['method', 'department', 'confidence_le'],
    values: ['categorizations', 'confidence_sum', 'needs_review'],
  },
  analytics_llm_usage: {
    keys: ['method', 'model'],
    values: [
      'calls',
      'latency_sum_seconds',
      'input_tokens',
      'output_tokens',
      'cache_read_tokens',
      'cache_write_tokens',
      'cost_usd',
    ],
  },
  analytics_llm_latency_buckets: {
    keys: ['method', 'model', 'le'],
    values: ['calls'],
  },
} as const satisfies Record<string, { keys: readonly string[]; values: readonly string[] }>;

export type RollupTable = keyof typeof ROLLUP_TABLES;

/** "Add these amounts to the row with this key" (the row is created at 0 if missing). */
export interface Delta {
  table: RollupTable;
  key: Record<string, string | number>;
  add: Record<string, number>;
}

const cellId = (d: Delta) =>
  `${d.table}\u0000${ROLLUP_TABLES[d.table].keys.map((k) => String(d.key[k])).join('\u0000')}`;

/**
 * Sums deltas of the same row and drops the ones that cancel out (a ticket moving to
 * the cell it was already in). Sorted, so concurrent transactions lock rows in one
 * order and cannot deadlock each other.
 */
export function mergeDeltas(deltas: readonly Delta[]): Delta[] {
  const merged = new Map<string, Delta>();
  for (const d of deltas) {
    const id = cellId(d);
    const seen = merged.get(id);
    if (!seen) {
      merged.set(id, { table: d.table, key: d.key, add: { ...d.add } });
      continue;
    }
    for (const [col, v] of Object.entries(d.add)) seen.add[col] = (seen.add[col] ?? 0) + v;
  }
  return [...merged.entries()]
    .filter(([, d]) => Object.values(d.add).some((v) => v !== 0))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, d]) => d);
}

/**
 * Sums the merged deltas of several events (each already passed through mergeDeltas) per
 * row, keeping rows whose sum is zero: applied one event at a time, such a row would
 * exist too (created by one event, brought back to 0 by a later one), and the batch path
 * must leave exactly the tables the one-by-one path leaves.
 */
export function sumDeltas(perEvent: readonly (readonly Delta[])[]): Delta[] {
  const summed = new Map<string, Delta>();
  for (const deltas of perEvent)
    for (const d of deltas) {
      const id = cellId(d);
      const seen = summed.get(id);
      if (!seen) summed.set(id, { table: d.table, key: d.key, add: { ...d.add } });
      else for (const [col, v] of Object.entries(d.add)) seen.add[col] = (seen.add[col] ?? 0) + v;
    }
  return [...summed.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

// Identifiers come only from ROLLUP_TABLES (code), never from event data.
const statements = new Map<RollupTable, string>();
function upsertSql(table: RollupTable): string {
  let sql = statements.get(table);
  if (!sql) {
    const { keys, values } = ROLLUP_TABLES[table];
    const cols = [...keys, ...values];
    sql =
      `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) ` +
      `ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ` +
      values.map((v) => `${v} = ${table}.${v} + EXCLUDED.${v}`).join(', ');
    statements.set(table, sql);
  }
  return sql;
}

/** Applies merged deltas with one upsert per row (inside the caller's transaction). */
export async function applyDeltas(client: pg.ClientBase, deltas: readonly Delta[]): Promise<void> {
  for (const d of deltas) {
    const { keys, values } = ROLLUP_TABLES[d.table];
    const params = [
      ...keys.map((k) => {
        const v = d.key[k];
        if (v === undefined) throw new Error(`delta for ${d.table} lacks key ${k}`);
        return v === Infinity ? 'Infinity' : v;
      }),
      ...values.map((v) => d.add[v] ?? 0),
    ];
    await client.query({
      name: `analytics-upsert-${d.table}`,
      text: upsertSql(d.table),
      values: params,
    });
  }
}

/** Postgres type of a rollup column (for the unnest arrays of the batch upsert). */
const FLOAT_COLUMNS: ReadonlySet<string> = new Set([
  'le',
  'confidence_le',
  'sum_seconds',
  'confidence_sum',
  'latency_sum_seconds',
  'cost_usd',
]);
function columnType(column: string, isKey: boolean): string {
  if (column === 'hour') return 'timestamptz';
  if (FLOAT_COLUMNS.has(column)) return 'float8';
  return isKey ? 'text' : 'int8';
}

const batchStatements = new Map<RollupTable, string>();
function batchUpsertSql(table: RollupTable): string {
  let sql = batchStatements.get(table);
  if (!sql) {
    const { keys, values } = ROLLUP_TABLES[table];
    const cols = [...keys, ...values];
    const arrays = cols.map(
      (c, i) => `$${i + 1}::${columnType(c, (keys as readonly string[]).includes(c))}[]`,
    );
    sql =
      `INSERT INTO ${table} (${cols.join(', ')}) SELECT * FROM unnest(${arrays.join(', ')}) ` +
      `ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ` +
      values.map((v) => `${v} = ${table}.${v} + EXCLUDED.${v}`).join(', ');
    batchStatements.set(table, sql);
  }
  return sql;
}

/**
 * Applies summed deltas with one upsert per rollup table (one array per column, rows in
 * key order so concurrent transactions lock them in one order). Each row key must occur
 * once: ON CONFLICT cannot update a row twice in one statement (sumDeltas ensures it).
 */
export async function applyDeltasBatch(
  client: pg.ClientBase,
  deltas: readonly Delta[],
): Promise<void> {
  const byTable = new Map<RollupTable, Delta[]>();
  for (const d of deltas) {
    const list = byTable.get(d.table);
    if (list) list.push(d);
    else byTable.set(d.table, [d]);
  }
  for (const [table, rows] of byTable) {
    const { keys, values } = ROLLUP_TABLES[table];
    const params: unknown[][] = [
      ...keys.map((k) =>
        rows.map((d) => {
          const v = d.key[k];
          if (v === undefined) throw new Error(`delta for ${table} lacks key ${k}`);
          return v === Infinity ? 'Infinity' : v;
        }),
      ),
      ...values.map((v) => rows.map((d) => d.add[v] ?? 0)),
    ];
    await client.query({
      name: `analytics-batch-upsert-${table}`,
      text: batchUpsertSql(table),
      values: params,
    });
  }
}

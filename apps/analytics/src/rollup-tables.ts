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

function cellId(d: Delta): string {
  let id: string = d.table;
  for (const k of ROLLUP_TABLES[d.table].keys) id += `\u0000${d.key[k]}`;
  return id;
}

const addInto = (into: Delta, add: Record<string, number>) => {
  for (const col in add) into.add[col] = (into.add[col] ?? 0) + add[col]!;
};
const isZero = (d: Delta) => {
  for (const col in d.add) if (d.add[col] !== 0) return false;
  return true;
};
const byId = ([a]: [string, Delta], [b]: [string, Delta]) => (a < b ? -1 : a > b ? 1 : 0);

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
    if (seen) addInto(seen, d.add);
    else merged.set(id, { table: d.table, key: d.key, add: { ...d.add } });
  }
  return [...merged.entries()]
    .filter(([, d]) => !isZero(d))
    .sort(byId)
    .map(([, d]) => d);
}

/**
 * The deltas of several events summed per row, each event's own deltas merged first as
 * mergeDeltas does (what cancels out within one event is dropped). Rows whose sum over
 * the events is zero are kept: applied one event at a time, such a row would exist too
 * (created by one event, brought back to 0 by a later one), and the batch path must
 * leave exactly the tables the one-by-one path leaves. Sorted as mergeDeltas.
 */
export function sumDeltas(perEvent: readonly (readonly Delta[])[]): Delta[] {
  const summed = new Map<string, Delta>();
  const one = new Map<string, Delta>();
  for (const deltas of perEvent) {
    one.clear();
    for (const d of deltas) {
      const id = cellId(d);
      const seen = one.get(id);
      if (seen) addInto(seen, d.add);
      else one.set(id, { table: d.table, key: d.key, add: { ...d.add } });
    }
    for (const [id, d] of one) {
      if (isZero(d)) continue;
      const seen = summed.get(id);
      if (seen) addInto(seen, d.add);
      else summed.set(id, d);
    }
  }
  return [...summed.entries()].sort(byId).map(([, d]) => d);
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

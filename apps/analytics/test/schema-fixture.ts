// A fresh, empty rollup schema per test, dropped afterwards.
import type pg from 'pg';
import { createPool } from '@mailroom/db';
import { stackEnv, unique } from '../../../test/support/env.js';
import { createRollupSchema, withSearchPath } from '../src/schema.js';
import { ROLLUP_TABLES } from '../src/rollup-tables.js';

export interface RollupSchema {
  name: string;
  pool: pg.Pool;
  /** Every rollup row and every ticket's facts, in a stable order (for comparisons). */
  dump(): Promise<Record<string, unknown[]>>;
  drop(): Promise<void>;
}

export async function freshSchema(admin: pg.Pool): Promise<RollupSchema> {
  const name = unique('analytics_t').replace(/-/g, '_');
  await createRollupSchema(admin, name);
  const pool = createPool({ url: withSearchPath(stackEnv('DATABASE_URL'), name), max: 4 });
  return {
    name,
    pool,
    dump: async () => {
      const out: Record<string, unknown[]> = {};
      for (const [table, spec] of Object.entries(ROLLUP_TABLES)) {
        const { rows } = await pool.query(
          `SELECT * FROM ${table} ORDER BY ${spec.keys.join(', ')}`,
        );
        out[table] = rows.map((r: Record<string, unknown>) =>
          // float sums may differ in the last bit with another addition order
          Object.fromEntries(
            Object.entries(r).map(([k, v]) => [
              k,
              typeof v === 'number' ? Number(v.toFixed(9)) : v,
            ]),
          ),
        );
      }
      const { rows } = await pool.query('SELECT * FROM analytics_tickets ORDER BY ticket_id');
      out.analytics_tickets = rows.map(({ updated_at: _u, ...r }: Record<string, unknown>) => r);
      return out;
    },
    drop: async () => {
      await pool.end();
      await admin.query(`DROP SCHEMA ${name} CASCADE`);
    },
  };
}

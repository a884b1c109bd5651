import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { MIGRATIONS_DIR, withTransaction } from '@mailroom/db';

/** The migration that defines the rollup tables (the one source of their DDL). */
export const ANALYTICS_MIGRATION = '1732170006000_analytics.sql';

/** `url` whose sessions use `schema` first: the rollup tables resolve there. */
export function withSearchPath(url: string, schema: string): string {
  if (schema === 'public') return url;
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

/**
 * Creates `schema` with empty rollup tables, for a rebuild by replay: the Up part of the
 * analytics migration runs with that search_path.
 */
export async function createRollupSchema(pool: pg.Pool, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const sql = await readFile(join(MIGRATIONS_DIR, ANALYTICS_MIGRATION), 'utf8');
  const up = sql.split(/^-- Down Migration/m)[0] ?? '';
  await withTransaction(pool, async (client) => {
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`SET LOCAL search_path = ${schema}`);
    await client.query(up);
  });
}

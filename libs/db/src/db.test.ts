import { afterAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { stackEnv, unique, waitFor } from '../../../test/support/env.js';
import { createPool, migrate, withTransaction } from './index.js';

const pool = createPool({ url: stackEnv('DATABASE_URL') });
afterAll(() => pool.end());

describe('migrations', () => {
  it('are applied by the stack and re-running them is a no-op', async () => {
    const ran = await migrate({ url: stackEnv('DATABASE_URL') });
    expect(ran).toEqual([]);
    const { rows } = await pool.query<{ name: string }>(
      'select name from pgmigrations order by id',
    );
    expect(rows.map((r) => r.name)).toContain('1732170000000_foundation');
  });

  it('run into a fresh schema, down and up again', async () => {
    const schema = unique('mig').replace('-', '_');
    await pool.query(`create schema ${schema}`);
    const url = new URL(stackEnv('DATABASE_URL'));
    try {
      const up = await migrate({ url: url.toString(), schema });
      expect(up.length).toBeGreaterThan(0);
      const down = await migrate({
        url: url.toString(),
        schema,
        direction: 'down',
        count: up.length,
      });
      expect(down).toHaveLength(up.length);
      expect((await migrate({ url: url.toString(), schema })).length).toBe(up.length);
    } finally {
      await pool.query(`drop schema ${schema} cascade`);
    }
  });
});

describe('pool', () => {
  it('queries, and withTransaction commits or rolls back', async () => {
    const key = unique('evt');
    await withTransaction(pool, (c) =>
      c.query('insert into processed_events (consumer, event_id) values ($1, $2)', ['test', key]),
    );
    await expect(
      withTransaction(pool, async (c) => {
        await c.query('insert into processed_events (consumer, event_id) values ($1, $2)', [
          'test',
          `${key}-2`,
        ]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const { rows } = await pool.query(
      'select event_id from processed_events where event_id like $1',
      [`${key}%`],
    );
    expect(rows).toEqual([{ event_id: key }]);
    await expect(
      pool.query('insert into processed_events (consumer, event_id) values ($1, $2)', ['test', '']),
    ).rejects.toThrow(/check constraint/);
  });

  it('survives the server ending a checked-out connection between queries (restart)', async () => {
    const own = createPool({
      url: stackEnv('DATABASE_URL'),
      max: 2,
      applicationName: unique('term'),
    });
    try {
      const client = await own.connect();
      const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
      // What a restart does to every backend: FATAL 57P01 while the app holds the client,
      // delivered as an 'error' event (no query is running). Without a listener, that
      // event is an uncaught exception, which fails this run.
      await pool.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      await waitFor(
        async () =>
          (await pool.query('select 1 from pg_stat_activity where pid = $1', [rows[0]!.pid]))
            .rowCount === 0 || undefined,
        { what: 'the backend to end' },
      );
      await sleep(200);
      // The client fails its next query, and its release takes it out of the pool.
      await expect(client.query('select 1')).rejects.toThrow();
      client.release();
      expect((await own.query<{ n: number }>('select 1 as n')).rows).toEqual([{ n: 1 }]);
      expect(own.totalCount).toBe(1);
    } finally {
      await own.end();
    }
  });
});

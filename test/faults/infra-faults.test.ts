// The infrastructure under the pipeline failing under load: Postgres restarted (a server
// of the test's own, so the machine's server, which other work shares, is untouched) and
// the poller's IMAP server unreachable for 30 s. Same audit as pipeline-faults.test.ts:
// every accepted ticket stored once, routed, analyzed, and one acknowledgement mail.
// The partition leader SIGKILLed in the 3-broker mode is leader-kill.test.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createPool } from '@mailroom/db';
import { stackEnv } from '../support/env.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { scenarioChecks } from './support/audit.js';
import { watchDeadLetters, type DeadLetterWatch } from './support/dead-letters.js';
import { startLoad } from './support/load.js';
import { startPrivatePostgres, type PrivatePostgres } from './support/private-postgres.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const RATE = 20;
const check = scenarioChecks('infrastructure faults');

describe('single broker: Postgres restart and IMAP outage', () => {
  let pipeline: Pipeline;
  let pool: pg.Pool;
  let dlq: DeadLetterWatch;
  let imap: TcpProxy;
  let postgres: PrivatePostgres;

  beforeAll(async () => {
    postgres = await startPrivatePostgres('infra-faults');
    imap = await startTcpProxy(stackEnv('IMAP_HOST'), Number(stackEnv('IMAP_PORT')));
    dlq = await watchDeadLetters();
    pool = createPool({ url: postgres.url, max: 4 });
    pipeline = await startPipeline({
      databaseUrl: postgres.url,
      imap: { user: `support@${stackEnv('MAIL_DOMAIN')}`, password: 'support', port: imap.port },
    });
  }, 150_000);
  afterAll(async () => {
    await pipeline?.stop();
    await dlq?.stop();
    await imap?.close();
    await pool?.end();
    await postgres?.stop();
  }, 90_000);

  it('loses nothing when Postgres restarts under load', async () => {
    const marker = `${pipeline.runId}-pg`;
    const load = startLoad(pipeline, { marker, ratePerSec: RATE, mailEveryMs: 1_000 });
    await sleep(5_000);
    await postgres.restart(3_000); // down for 3 s, then the same data again
    await sleep(10_000);
    const { accepted } = await load.stop();
    await pool.query('SELECT 1').catch(() => undefined); // the pool drops its dead clients
    await check({ pipeline, pool, dlq }, 'Postgres restart', marker, accepted);
  }, 400_000);

  it('ingests every mail once after the IMAP server was unreachable for 30 s', async () => {
    const marker = `${pipeline.runId}-imap`;
    const load = startLoad(pipeline, { marker, ratePerSec: 5, mailEveryMs: 500 });
    await sleep(3_000);
    await imap.down();
    await sleep(30_000);
    await imap.up();
    await sleep(5_000);
    const { accepted } = await load.stop();
    expect(accepted.filter((s) => s.kind === 'email').length).toBeGreaterThan(50);
    await check({ pipeline, pool, dlq }, 'IMAP down 30 s', marker, accepted);
  }, 400_000);
});

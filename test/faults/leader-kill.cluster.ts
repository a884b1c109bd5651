// The partition leader of tickets.raw SIGKILLed under load in the 3-broker Kafka mode
// (acks=all, min.insync.replicas=2), with the audit of infra-faults.test.ts. Run by
// `npm run test:faults:cluster`, not by `npm test`: in 1 of 3 runs, 2 of 928 tickets
// stored before the kill were not routed within 180 s (not yet explained; see README).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type pg from 'pg';
import { createPool } from '@mailroom/db';
import { createKafka, parseBrokers } from '@mailroom/kafka';
import { stackEnv, testLogger } from '../support/env.js';
import { PIPELINE_APPS, startPipeline, type Pipeline } from '../support/pipeline.js';
import {
  audit,
  expectClean,
  expectNoCrash,
  formatReports,
  type AuditReport,
} from './support/audit.js';
import { watchDeadLetters, type DeadLetterWatch } from './support/dead-letters.js';
import { startLoad, type Submission } from './support/load.js';
import { deleteMailUsers } from './support/mail-users.js';

const run = promisify(execFile);
const RATE = 20;
const reports: AuditReport[] = [];
const mailUsers: string[] = [];

async function check(
  ctx: { pipeline: Pipeline; pool: pg.Pool; dlq: DeadLetterWatch },
  scenario: string,
  marker: string,
  submissions: readonly Submission[],
) {
  mailUsers.push(...submissions.map((s) => s.requester));
  const report = await audit({
    scenario,
    pool: ctx.pool,
    submissions,
    analyticsSchema: ctx.pipeline.analyticsSchema,
    dlq: ctx.dlq,
    marker,
    timeoutMs: 180_000,
  });
  reports.push(report);
  expectClean(report);
  expectNoCrash(ctx.pipeline);
}

afterAll(async () => {
  console.log(`\nleader kill:\n${formatReports(reports)}\n`);
  await deleteMailUsers(mailUsers);
});

describe('3-broker Kafka: the partition leader is SIGKILLed', () => {
  let pipeline: Pipeline;
  let pool: pg.Pool;
  let dlq: DeadLetterWatch;
  const brokersBefore = process.env.KAFKA_BROKERS;
  const cluster = join(stackEnv('MAILROOM_ROOT'), 'deploy/local/kafka-cluster.sh');

  beforeAll(async () => {
    await run('bash', [cluster, 'up']);
    // Everything of this block (apps, load, watchers) talks to the cluster.
    process.env.KAFKA_BROKERS = stackEnv('KAFKA_CLUSTER_BROKERS');
    dlq = await watchDeadLetters({ replicationFactor: 3 });
    pool = createPool({ url: stackEnv('DATABASE_URL'), max: 4 });
    pipeline = await startPipeline({
      env: Object.fromEntries(PIPELINE_APPS.map((app) => [app, { KAFKA_REPLICATION_FACTOR: '3' }])),
    });
  }, 240_000);
  afterAll(async () => {
    await pipeline?.stop();
    await dlq?.stop();
    await pool?.end();
    await run('bash', [cluster, 'down']);
    process.env.KAFKA_BROKERS = brokersBefore;
  }, 120_000);

  it('loses no acknowledged ticket when the leader of tickets.raw dies', async () => {
    const marker = `${pipeline.runId}-leader`;
    const load = startLoad(pipeline, { marker, ratePerSec: RATE, mailEveryMs: 1_000 });
    await sleep(5_000);
    const admin = createKafka({
      brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
      clientId: 'infra-faults',
      logger: testLogger('infra-faults'),
    }).admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: ['tickets.raw'] });
    await admin.disconnect();
    const leader = meta.topics[0]!.partitions.find((p) => p.partitionId === 0)!.leader;
    const pidFile = join(stackEnv('MAILROOM_DATA_DIR'), 'run', `kafka-cluster-${leader}.pid`);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    process.kill(-pid, 'SIGKILL');
    await sleep(15_000);
    await run('bash', [cluster, 'up']); // brings the killed broker back
    await sleep(5_000);
    const { accepted } = await load.stop();
    await check({ pipeline, pool, dlq }, `3 brokers: leader ${leader} SIGKILL`, marker, accepted);
  }, 500_000);
});

// The partition leader of tickets.raw SIGKILLed under load in the 3-broker Kafka mode
// (acks=all, min.insync.replicas=2), with the audit of infra-faults.test.ts. It found
// the lost-record race of concurrent kafkajs sends across a leader change (see
// libs/kafka/src/producer.ts).
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
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { scenarioChecks } from './support/audit.js';
import { watchDeadLetters, type DeadLetterWatch } from './support/dead-letters.js';
import { startLoad } from './support/load.js';

const run = promisify(execFile);
const RATE = 20;
const check = scenarioChecks('leader kill');

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
    pipeline = await startPipeline({ replicationFactor: 3 });
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

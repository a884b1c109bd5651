// The pipeline under faults: every app a separate process, a steady REST load plus mail
// to support@, and one fault at a time — each consumer app SIGKILLed and restarted, the
// Kafka broker restarted, the LLM failing for 30 s, SMTP gone for 30 s, and a fuzz run
// of the REST API. After each, an audit: every accepted ticket stored exactly once,
// routed, in analytics, and exactly one acknowledgement mail in its requester's INBOX.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createPool } from '@mailroom/db';
import {
  startFakeAnthropic,
  type FakeAnthropic,
  type FakeBehaviour,
} from '../../apps/categorizer/test/fake-anthropic-server.js';
import { stackEnv } from '../support/env.js';
import { startPipeline, type AppName, type Pipeline } from '../support/pipeline.js';
import {
  audit,
  expectClean,
  expectNoCrash,
  formatReports,
  type AuditReport,
} from './support/audit.js';
import { createMailUsers, deleteMailUsers } from './support/mail-users.js';
import { watchDeadLetters, type DeadLetterWatch } from './support/dead-letters.js';
import { fuzzCases } from './support/fuzz.js';
import { startBroker, stopBroker } from './support/kafka-broker.js';
import { startLoad, type Submission } from './support/load.js';
import { runFuzz } from './support/run-fuzz.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const RATE = 20; // REST tickets per second: small, other test files share the machine
const MAIL_EVERY_MS = 1_000;
const AUDIT_TIMEOUT_MS = 120_000;

let pipeline: Pipeline;
let llm: FakeAnthropic;
let smtp: TcpProxy;
let dlq: DeadLetterWatch;
let pool: pg.Pool;
const reports: AuditReport[] = [];

const mailUsers: string[] = [];

async function check(
  scenario: string,
  marker: string,
  submissions: readonly Submission[],
): Promise<AuditReport> {
  mailUsers.push(...submissions.map((s) => s.requester));
  const report = await audit({
    scenario,
    pool,
    submissions,
    analyticsSchema: pipeline.analyticsSchema,
    dlq,
    marker,
    timeoutMs: AUDIT_TIMEOUT_MS,
  });
  reports.push(report);
  return report;
}

beforeAll(async () => {
  llm = await startFakeAnthropic({ behaviour: { kind: 'smart' } });
  smtp = await startTcpProxy(stackEnv('SMTP_HOST'), Number(stackEnv('SMTP_PORT')));
  dlq = await watchDeadLetters();
  pool = createPool({ url: stackEnv('DATABASE_URL'), max: 4 });
  pipeline = await startPipeline({
    env: {
      categorizer: {
        ANTHROPIC_API_KEY: llm.apiKey,
        ANTHROPIC_BASE_URL: llm.url,
        LLM_TIMEOUT_MS: '1500',
        LLM_DEADLINE_MS: '4000',
        LLM_MAX_RETRIES: '1',
        LLM_MAX_CONCURRENCY: '16',
      },
      notifier: { SMTP_PORT: String(smtp.port), NOTIFIER_SESSION_TIMEOUT_MS: '6000' },
    },
  });
}, 150_000);

afterAll(async () => {
  console.log(`\npipeline faults (run ${pipeline?.runId ?? '-'}):\n${formatReports(reports)}\n`);
  await pipeline?.stop();
  await deleteMailUsers(mailUsers);
  await dlq?.stop();
  await smtp?.close();
  await llm?.close();
  await pool?.end();
}, 60_000);

describe('the pipeline under faults', () => {
  it('loses and duplicates nothing when each consumer app is SIGKILLed and restarted', async () => {
    const apps: AppName[] = [
      'ticket-store',
      'categorizer',
      'router',
      'notifier',
      'analytics',
      'imap-poller',
    ];
    const markers = apps.map((a) => `${pipeline.runId}-kill-${a}`);
    const load = startLoad(pipeline, {
      marker: markers[0]!,
      ratePerSec: RATE,
      mailEveryMs: MAIL_EVERY_MS,
    });
    // One kill every 3 s; the restarts run side by side, since a restarted consumer only
    // gets its partitions once the group dropped the killed member (session timeout).
    const restarts: Promise<void>[] = [];
    for (const [i, app] of apps.entries()) {
      load.setMarker(markers[i]!);
      await sleep(2_500);
      await pipeline.kill(app, 'SIGKILL');
      await sleep(500);
      restarts.push(pipeline.restart(app));
    }
    await Promise.all(restarts);
    const { accepted } = await load.stop();
    const results = await Promise.all(
      apps.map((app, i) =>
        check(
          `SIGKILL ${app}`,
          markers[i]!,
          accepted.filter((s) => s.marker === markers[i]),
        ),
      ),
    );
    for (const r of results) {
      expect(r.submitted).toBeGreaterThan(0);
      expectClean(r);
    }
    expectNoCrash(pipeline);
  }, 240_000);

  it('falls back to the local model while the LLM answers 429/529/timeouts for 30 s', async () => {
    const marker = `${pipeline.runId}-llm`;
    const faults: FakeBehaviour[] = [
      { kind: 'rate_limited', retryAfterSeconds: 1 },
      { kind: 'overloaded' },
      { kind: 'delay', ms: 3_000 },
    ];
    const load = startLoad(pipeline, {
      marker,
      ratePerSec: RATE,
      mailEveryMs: MAIL_EVERY_MS,
    });
    await sleep(2_000);
    llm.setBehaviour((_req, i) => faults[i % faults.length]!);
    await sleep(30_000);
    llm.setBehaviour({ kind: 'smart' });
    await sleep(3_000);
    const { accepted } = await load.stop();
    const report = await check('LLM 429/529/timeouts 30 s', marker, accepted);
    expectClean(report);
    const { rows } = await pool.query<{ method: string; n: number }>(
      `SELECT categorization->>'method' AS method, count(*)::int AS n FROM tickets
       WHERE requester_email = ANY($1::text[]) GROUP BY 1`,
      [accepted.map((a) => a.requester)],
    );
    console.log('categorized by:', rows);
    expect(rows.find((r) => r.method === 'local')?.n ?? 0).toBeGreaterThan(0);
    expectNoCrash(pipeline);
  }, 200_000);

  it('sends every acknowledgement once after SMTP was down for 30 s', async () => {
    const marker = `${pipeline.runId}-smtp`;
    const load = startLoad(pipeline, {
      marker,
      ratePerSec: RATE,
      mailEveryMs: MAIL_EVERY_MS,
    });
    await sleep(3_000);
    await smtp.down();
    await sleep(30_000);
    await smtp.up();
    await sleep(3_000);
    const { accepted } = await load.stop();
    const report = await check('SMTP down 30 s', marker, accepted);
    expectClean(report);
    expectNoCrash(pipeline);
  }, 200_000);

  it('answers 500 fuzzed requests with 2xx/4xx only and stays up', async () => {
    const marker = `${pipeline.runId}-fuzz`;
    const seed = Number(process.env.FUZZ_SEED ?? 20_241_121);
    const cases = fuzzCases(seed, 500, marker, stackEnv('MAIL_DOMAIN'));
    await createMailUsers(cases.flatMap((c) => (c.requester ? [c.requester] : [])));
    const result = await runFuzz(pipeline, cases);
    console.log(`fuzz (seed ${seed}) answers:`, result.answers);
    expect(result.failures).toEqual([]);
    expect(result.unexpectedlyAccepted).toEqual([]);
    for (const name of pipeline.apps.keys())
      expect({ name, ready: await pipeline.ready(name) }).toEqual({ name, ready: true });
    const report = await check('REST fuzz (500 requests)', marker, result.accepted);
    expectClean(report);
    expectNoCrash(pipeline);
  }, 200_000);
  // Last: a producer that does not recover from the restart would fail every later scenario.
  it('loses nothing when the Kafka broker restarts', async () => {
    const marker = `${pipeline.runId}-kafka`;
    const load = startLoad(pipeline, {
      marker,
      ratePerSec: RATE,
      mailEveryMs: MAIL_EVERY_MS,
      // A producer that does not recover shows within this, not after the test's timeout.
      retryForMs: 30_000,
    });
    await sleep(4_000);
    await stopBroker();
    await startBroker();
    await sleep(5_000);
    const { accepted, answers } = await load.stop();
    const report = await check('Kafka broker restart', marker, accepted);
    console.log('answers during the broker restart:', answers);
    // Retriable (503), never 500: a client must know that retrying is right.
    expect(answers['500'] ?? 0).toBe(0);
    expectClean(report);
    expectNoCrash(pipeline);
  }, 200_000);
});

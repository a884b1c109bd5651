// Makes sure the local stack runs before any test: tests talk to the real services.
// Starts it (deploy/local/up.sh, idempotent) when it is not up, and fails loudly when
// it cannot be started. Exports the stack's addresses to the test workers' environment.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Admin } from 'kafkajs';

const root = fileURLToPath(new URL('..', import.meta.url));

function stackIsUp(): boolean {
  try {
    execFileSync('bash', [`${root}/deploy/local/status.sh`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Topics the tests create (unique('test.…') names, and their dead letters). */
const isTestTopic = (topic: string) => topic.startsWith('test.');

const brokers = () => (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);

async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({
    clientId: 'test-setup',
    brokers: brokers(),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  const dataDir = process.env.MAILROOM_DATA_DIR ?? `${root}/.data`;
  const runtimeEnv = `${dataDir}/runtime.env`;
  if (!existsSync(runtimeEnv) || !stackIsUp()) {
    console.log('[tests] local stack not running: starting it with deploy/local/up.sh');
    execFileSync('bash', [`${root}/deploy/local/up.sh`], { stdio: 'inherit' });
  }
  for (const line of readFileSync(runtimeEnv, 'utf8').split('\n')) {
    const m = line.match(/^([A-Z0-9_]+)=(.*)$/);
    if (m?.[1] && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
  }
  // Tests use their own database, never the one `npm start` runs on.
  process.env.DATABASE_URL = process.env.TEST_DATABASE_URL;
  process.env.MAILROOM_ROOT = root;
  // Test files run in parallel and their ticket-stores all consume tickets.raw: one
  // shared configuration makes every instance thread and authorize mail the same way,
  // whichever of them handles a record first.
  process.env.REPLY_TOKEN_SECRET ??= 'mailroom-test-reply-token-secret-0123456789';
  process.env.AGENT_ADDRESSES ??= '@agents.example.test';
  // Migrations added since the stack started apply before any test runs.
  const { migrate } = await import('@mailroom/db');
  await migrate({ url: process.env.DATABASE_URL! });

  // The run's own test topics are deleted at the end: a broker keeps every partition it
  // has (a few hundred after one run) and its background upkeep of them shows up as CPU
  // in every later benchmark. Topics that were there before the run (another run's, on a
  // shared stack) are left alone.
  // The project's topics exist before any test: a test that watches tickets.events
  // before an app of it has created the topic would never be assigned its partitions
  // (kafkajs looks at the topic list again only every few minutes), and apps starting in
  // parallel on a fresh broker would race to create and grow them.
  const { ALL_TOPICS } = await import('@mailroom/events');
  const { ensureTopics, topicSpecs } = await import('@mailroom/kafka');
  const { Kafka, logLevel } = await import('kafkajs');
  await ensureTopics(
    new Kafka({ clientId: 'test-setup', brokers: brokers(), logLevel: logLevel.NOTHING }),
    topicSpecs(ALL_TOPICS, {
      KAFKA_TOPIC_PARTITIONS: Number(process.env.KAFKA_TOPIC_PARTITIONS ?? 6),
      KAFKA_REPLICATION_FACTOR: Number(process.env.KAFKA_REPLICATION_FACTOR ?? 1),
    }),
  );
  const before = new Set((await withAdmin((a) => a.listTopics())).filter(isTestTopic));
  return async () => {
    try {
      const created = await withAdmin(async (admin) => {
        const mine = (await admin.listTopics()).filter((t) => isTestTopic(t) && !before.has(t));
        if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
        return mine.length;
      });
      console.log(`[tests] deleted the run's ${created} test topics`);
    } catch (err) {
      console.warn(`[tests] could not delete the run's test topics: ${(err as Error).message}`);
    }
  };
}

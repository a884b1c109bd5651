import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@mailroom/db';
import { encodeEvent } from '@mailroom/events';
import {
  createKafka,
  createProducer,
  dlqTopicOf,
  ensureTopics,
  parseBrokers,
  type MailroomProducer,
} from '@mailroom/kafka';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import { createMailUser, mailbox, routedEvent } from './support.js';

// The notifier as its own process, killed with SIGKILL in the middle of a batch of 500
// acknowledgements and started again: every ticket must get exactly one.

const TICKETS = 500;
const root = stackEnv('MAILROOM_ROOT');
const logger = testLogger();
const pool = createPool({ url: stackEnv('DATABASE_URL') });
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'notifier-crash-test',
  logger,
});
const groupId = unique('notifier-crash');
// Own topic (created here, read from its start): nothing else feeds or reads it.
const topic = unique('test.notifier-crash.events');
let producer: MailroomProducer;
let child: ChildProcess | undefined;
let stderr = '';

/** The default of NotifierConfig: the crash window is one mail per send lane. */
const SMTP_POOL_SIZE = 10;

function startNotifier(): ChildProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'apps/notifier/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      NOTIFIER_GROUP_ID: groupId,
      NOTIFIER_EVENTS_TOPIC: topic,
      NOTIFIER_FROM_BEGINNING: 'true',
      NOTIFIER_SESSION_TIMEOUT_MS: '6000',
      METRICS_PORT: '0',
      ACK_RATE_LIMIT_PER_HOUR: '100000',
      SMTP_POOL_SIZE: String(SMTP_POOL_SIZE),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-5000)));
  return proc;
}

const sentCount = (ids: string[]) =>
  pool
    .query<{ n: number }>(
      "SELECT count(*)::int AS n FROM notifier_outbox WHERE ticket_id = ANY($1::uuid[]) AND status = 'sent'",
      [ids],
    )
    .then((r) => r.rows[0]?.n ?? 0);

beforeAll(async () => {
  await ensureTopics(
    kafka,
    [topic, dlqTopicOf(topic)].map((t) => ({ topic: t, partitions: 6, replicationFactor: 1 })),
  );
  producer = await createProducer(kafka);
}, 60_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  await producer.disconnect();
  await pool.end();
});

describe('notifier killed mid-batch', () => {
  it('gives every ticket exactly one acknowledgement after SIGKILL and restart', async () => {
    const email = await createMailUser(`${unique('crash')}@example.test`);
    const batch = Array.from({ length: TICKETS }, (_, i) =>
      routedEvent(email, { number: 900_000 + i, title: `crash ${i}` }),
    );
    const ids = batch.map((e) => e.ticketId);
    await producer.send(
      topic,
      batch.map((e) => encodeEvent(e, e.ticketId)),
    );
    const started = Date.now();
    child = startNotifier();
    await waitFor(async () => (await sentCount(ids)) >= TICKETS / 4, {
      what: 'a quarter sent',
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    const atKill = await sentCount(ids);

    child = startNotifier();
    await waitFor(async () => (await sentCount(ids)) === TICKETS, {
      what: `all ${TICKETS} sent (stderr: ${stderr.slice(-500)})`,
      timeoutMs: 90_000,
      intervalMs: 250,
    });
    const elapsedMs = Date.now() - started;
    await new Promise((r) => setTimeout(r, 1000)); // late deliveries would show up

    const mails = await mailbox(email);
    const perTicket = new Map<string, Set<string>>();
    const perTicketCount = new Map<string, number>();
    for (const m of mails) {
      const tag = /\[#(\d+)\]/.exec(m.subject)?.[1] ?? '?';
      perTicketCount.set(tag, (perTicketCount.get(tag) ?? 0) + 1);
      perTicket.set(tag, (perTicket.get(tag) ?? new Set()).add(m['Message-ID']));
    }
    const missing = batch.filter((e) => !perTicket.has(String(e.payload.number))).length;
    const duplicates = [...perTicketCount.values()].reduce((n, c) => n + (c - 1), 0);
    console.log(
      `[notifier crash] ${TICKETS} tickets, killed after ${atKill} sent, ` +
        `${mails.length} mails, ${missing} missing, ${duplicates} duplicates, ${elapsedMs} ms`,
    );
    // Nothing lost, ever. A duplicate needs the kill to land between the server's 250
    // and the COMMIT of "sent" (one Postgres round trip) of a mail in flight, so at most
    // one per send lane (2 × SMTP_POOL_SIZE); it carries the original's Message-ID.
    expect(missing).toBe(0);
    expect(duplicates).toBeLessThanOrEqual(2 * SMTP_POOL_SIZE);
    for (const ids of perTicket.values()) expect(ids.size).toBe(1);
    expect(await sentCount(ids)).toBe(TICKETS);
  }, 110_000);
});

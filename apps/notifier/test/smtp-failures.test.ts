import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import { encodeEvent, type Envelope } from '@mailroom/events';
import {
  createKafka,
  createProducer,
  dlqTopicOf,
  parseBrokers,
  runConsumer,
  type MailroomProducer,
  type RunningConsumer,
} from '@mailroom/kafka';
import { Registry } from 'prom-client';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import { NotifierConfig } from '../src/config.js';
import { start } from '../src/start.js';
import { createMailUser, mailbox, routedEvent, smtpFront } from './support.js';

const logger = testLogger();
const pool = createPool({ url: stackEnv('DATABASE_URL') });
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'notifier-smtp-test',
  logger,
});
const dead: { key: string | null; headers: Record<string, string> }[] = [];
let front: Awaited<ReturnType<typeof smtpFront>>;
let producer: MailroomProducer;
let watcher: RunningConsumer;
let app: Awaited<ReturnType<typeof start>>;
// Own topic: no other notifier may send these mails through the real server.
const topic = unique('test.notifier-smtp.events');

beforeAll(async () => {
  front = await smtpFront('reject');
  const config = loadConfig(NotifierConfig, {
    ...process.env,
    NOTIFIER_GROUP_ID: unique('notifier-smtp'),
    NOTIFIER_EVENTS_TOPIC: topic,
    METRICS_PORT: '0',
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(front.port),
    SMTP_TIMEOUT_MS: '5000',
    ACK_RATE_LIMIT_PER_HOUR: '1000',
  });
  app = await start(config, { logger });
  producer = await createProducer(kafka);
  watcher = await runConsumer({
    kafka,
    producer,
    logger,
    registry: new Registry(),
    groupId: unique('notifier-dlq-watch'),
    topics: [dlqTopicOf(topic)],
    fromBeginning: true,
    handler: async (r) => void dead.push({ key: r.key, headers: r.headers }),
  });
  await Promise.all([app.joined, watcher.joined]);
  await new Promise((r) => setTimeout(r, 1000));
}, 120_000);

afterAll(async () => {
  await watcher.stop();
  await app.stop();
  await producer.disconnect();
  await front.close();
  await pool.end();
});

const send = (events: Envelope[]) =>
  producer.send(
    topic,
    events.map((e) => encodeEvent(e, e.ticketId ?? e.id)),
  );

const rowsOf = (ids: string[]) =>
  pool
    .query<{ ticket_id: string; status: string; reason: string | null; attempts: number }>(
      'SELECT ticket_id, status, reason, attempts FROM notifier_outbox WHERE ticket_id = ANY($1::uuid[])',
      [ids],
    )
    .then((r) => r.rows);

describe('notifier and a failing SMTP server', () => {
  it('dead-letters a permanent rejection (5xx) with the reason and records it', async () => {
    const e = routedEvent(`${unique('rejected')}@example.test`);
    await send([e]);
    const letter = await waitFor(() => dead.find((d) => d.key === e.ticketId), {
      what: 'dead letter',
      timeoutMs: 30_000,
    });
    expect(letter.headers['x-error-code']).toBe('SMTP_REJECTED');
    expect(letter.headers['x-error-message']).toMatch(/550/);
    expect(await rowsOf([e.ticketId])).toEqual([
      expect.objectContaining({ status: 'failed', reason: 'smtp_550', attempts: 1 }),
    ]);
  });

  it('an SMTP outage (421, refused) delays mail and loses none; each is sent once', async () => {
    front.set('down');
    const outageStart = Date.now();
    const email = await createMailUser(`${unique('outage')}@example.test`);
    const batch = Array.from({ length: 30 }, () => routedEvent(email));
    await send(batch);
    const ids = batch.map((e) => e.ticketId);
    // Every partition is stuck on a pending row that failed at least once.
    await waitFor(
      async () => {
        const rows = await rowsOf(ids);
        return rows.some((r) => r.attempts >= 2) && rows.every((r) => r.status === 'pending');
      },
      { what: 'retried pending rows', timeoutMs: 30_000 },
    );
    // The outage lasts 30 s in all (the figure).
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - outageStart))));
    expect(await mailbox(email)).toHaveLength(0);
    expect((await rowsOf(ids)).every((r) => r.status === 'pending')).toBe(true);

    const back = Date.now();
    front.set('up');
    await waitFor(
      async () => (await rowsOf(ids)).filter((r) => r.status === 'sent').length === batch.length,
      { what: 'all rows sent', timeoutMs: 60_000 },
    );
    const drainedMs = Date.now() - back;
    await new Promise((r) => setTimeout(r, 500));
    const mails = await mailbox(email);
    expect(mails).toHaveLength(batch.length);
    expect(new Set(mails.map((m) => m['Message-ID'])).size).toBe(batch.length);
    logger.info({ drainedMs }, 'outage drained');
    const metrics = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
    expect(metrics).toMatch(/mailroom_smtp_send_failures_total\{kind="unavailable"[^}]*\} [1-9]/);
    console.log(`[notifier] ${batch.length} mails delivered ${drainedMs} ms after SMTP came back`);
  }, 120_000);
});

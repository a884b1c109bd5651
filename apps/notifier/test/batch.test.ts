import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import { decodeEvent, encodeEvent, type Envelope } from '@mailroom/events';
import {
  createKafka,
  createProducer,
  dlqTopicOf,
  ensureTopics,
  parseBrokers,
  runConsumer,
  type MailroomProducer,
  type RunningConsumer,
} from '@mailroom/kafka';
import { Registry } from 'prom-client';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import { NotifierConfig } from '../src/config.js';
import { start } from '../src/start.js';
import {
  createMailUser,
  createdEvent,
  mailbox,
  parse,
  reroutedEvent,
  routedEvent,
  smtpFront,
  statusEvent,
} from './support.js';

// The batch path: every record of a one-partition topic is produced before the notifier
// starts, so its first fetch hands them over as one chunk (the consumer's metrics show
// how many chunks it took). Real Kafka, Postgres and GreenMail (or a fake SMTP server
// where a rejection is needed).

const logger = testLogger();
const pool = createPool({ url: stackEnv('DATABASE_URL') });
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'notifier-batch-test',
  logger,
});
let producer: MailroomProducer;
const running: { stop(): Promise<unknown> }[] = [];

beforeAll(async () => {
  producer = await createProducer(kafka);
}, 60_000);

afterAll(async () => {
  for (const r of running.reverse()) await r.stop();
  await producer.disconnect();
  await pool.end();
});

type Routed = ReturnType<typeof routedEvent>;

/** A topic of one partition (and its dead-letter topic) holding these events in order. */
async function topicWith(events: Envelope[]): Promise<string> {
  const topic = unique('test.notifier-batch.events');
  await ensureTopics(
    kafka,
    [topic, dlqTopicOf(topic)].map((t) => ({ topic: t, partitions: 1, replicationFactor: 1 })),
  );
  await producer.send(
    topic,
    events.map((e) => encodeEvent(e, e.ticketId ?? e.id)),
  );
  return topic;
}

async function startNotifier(topic: string, env: Record<string, string> = {}) {
  const app = await start(
    loadConfig(NotifierConfig, {
      ...process.env,
      NOTIFIER_GROUP_ID: unique('notifier-batch'),
      NOTIFIER_EVENTS_TOPIC: topic,
      METRICS_PORT: '0',
      KAFKA_TOPIC_PARTITIONS: '1', // leaves the test topic as it is
      ACK_RATE_LIMIT_PER_HOUR: '1000',
      ...env,
    }),
    { logger },
  );
  running.push(app);
  return app;
}

/** Everything on a topic from its start: the input, our acknowledgements, dead letters. */
async function watch(topic: string) {
  const seen: { event?: Envelope; key: string | null; headers: Record<string, string> }[] = [];
  const watcher: RunningConsumer = await runConsumer({
    kafka,
    producer,
    logger,
    registry: new Registry(),
    groupId: unique('notifier-batch-watch'),
    topics: [topic],
    fromBeginning: true,
    handler: async (r) =>
      void seen.push({
        key: r.key,
        headers: r.headers,
        ...(r.headers['x-error-code'] ? {} : { event: decodeEvent(r.value) }),
      }),
  });
  running.push(watcher);
  return {
    acks: (ticketId: string) =>
      seen.filter((s) => s.event?.ticketId === ticketId && s.event.type === 'ticket.acknowledged'),
    all: seen,
  };
}

const outbox = (ticketIds: string[]) =>
  pool
    .query<{
      ticket_id: string;
      template: string;
      status: string;
      reason: string | null;
      attempts: number;
    }>(
      `SELECT ticket_id, template, status, reason, attempts FROM notifier_outbox
       WHERE ticket_id = ANY($1::uuid[]) ORDER BY created_at, template`,
      [ticketIds],
    )
    .then((r) => r.rows);

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
}

describe('notifier batch path', () => {
  it('handles a chunk of sendable, suppressed, duplicate, rerouted and status mails as one-by-one would', async () => {
    const alice = await createMailUser(`${unique('batch-a')}@example.test`);
    const busy = await createMailUser(`${unique('batch-busy')}@example.test`);
    const bounced = `${unique('batch-bounced')}@example.test`;
    await pool.query(
      "INSERT INTO undeliverable_addresses (address, reason, bounced_at) VALUES ($1, '550 5.1.1 user unknown', now())",
      [bounced],
    );
    const plain = routedEvent(alice, { title: 'plain ack' });
    const worked = routedEvent(alice, { title: 'rerouted then in progress' });
    const noreply = routedEvent(`noreply@${unique('shop')}.example.test`);
    const auto = routedEvent(`${unique('batch-ooo')}@example.test`);
    const undeliverable = routedEvent(bounced);
    const many: Routed[] = Array.from({ length: 4 }, (_, i) =>
      routedEvent(busy, { title: `busy ${i}` }),
    );
    const events: Envelope[] = [
      createdEvent(plain),
      plain,
      createdEvent(worked),
      worked,
      reroutedEvent(worked, 'Facilities'),
      statusEvent(worked, 'pending', 'in_progress'),
      noreply,
      createdEvent(auto, { automated: true }),
      auto,
      undeliverable,
      ...many,
      plain, // the same routed event again: one mail, its ack again
    ];
    const topic = await topicWith(events);
    const seen = await watch(topic);
    const app = await startNotifier(topic, { ACK_RATE_LIMIT_PER_HOUR: '2' });
    await app.joined;

    const all = [plain, worked, noreply, auto, undeliverable, ...many];
    const ids = all.map((e) => e.ticketId);
    await waitFor(
      async () =>
        (await outbox(ids)).length === all.length + 1 &&
        (await outbox(ids)).every((r) => r.status !== 'pending'),
      {
        what: 'every outbox row settled',
        timeoutMs: 30_000,
      },
    );
    const rows = await outbox(ids);
    const rowOf = (e: Routed, template = 'acknowledgement') =>
      rows.find((r) => r.ticket_id === e.ticketId && r.template === template);
    expect(rowOf(plain)).toMatchObject({ status: 'sent', attempts: 1 });
    expect(rowOf(worked)).toMatchObject({ status: 'sent' });
    expect(rowOf(worked, 'status-in-progress')).toMatchObject({ status: 'sent' });
    expect(rowOf(noreply)).toMatchObject({ status: 'suppressed', reason: 'noreply_address' });
    expect(rowOf(auto)).toMatchObject({ status: 'suppressed', reason: 'automated_sender' });
    expect(rowOf(undeliverable)).toMatchObject({ status: 'suppressed', reason: 'undeliverable' });
    expect(many.map((e) => rowOf(e)?.status)).toEqual(['sent', 'sent', 'suppressed', 'suppressed']);
    expect(many.map((e) => rowOf(e)?.reason)).toEqual([null, null, 'rate_limited', 'rate_limited']);

    // GreenMail got exactly the mails marked sent.
    await waitFor(async () => (await mailbox(alice)).length >= 3, { what: "alice's three mails" });
    await waitFor(async () => (await mailbox(busy)).length >= 2, { what: 'two acks to busy' });
    await new Promise((r) => setTimeout(r, 500));
    const aliceMails = await Promise.all((await mailbox(alice)).map(parse));
    expect(aliceMails).toHaveLength(3);
    expect(await mailbox(busy)).toHaveLength(2);
    expect(await mailbox(bounced)).toHaveLength(0);
    // The status mail saw the ticket as of its own event: rerouted, threaded to the request.
    const status = aliceMails.find((m) => /We are working on your request/.test(m.subject ?? ''))!;
    expect(status.text).toContain('Facilities');
    expect(status.inReplyTo).toBe(worked.payload.messageId);

    // One ticket.acknowledged per triggering record: twice for the duplicated event.
    await waitFor(() => seen.acks(plain.ticketId).length >= 2, { what: 'two acks of plain' });
    expect(new Set(seen.acks(plain.ticketId).map((a) => a.event!.id)).size).toBe(1);
    expect(seen.acks(worked.ticketId)).toHaveLength(2); // acknowledgement + status mail
    expect(seen.acks(noreply.ticketId)).toHaveLength(0);
    // All of it in one chunk (or very few), not record by record.
    expect(await metric(app.port, 'mailroom_consumer_records_total{')).toBeGreaterThanOrEqual(
      events.length,
    );
    expect(await metric(app.port, 'mailroom_consumer_processing_seconds_count')).toBeLessThan(4);
  });

  it('sends nothing twice when the same chunk is delivered again, or to two instances at once', async () => {
    const email = await createMailUser(`${unique('batch-again')}@example.test`);
    const batch = Array.from({ length: 40 }, (_, i) => routedEvent(email, { title: `again ${i}` }));
    const ids = batch.map((e) => e.ticketId);
    const topic = await topicWith(batch.flatMap((e) => [createdEvent(e), e]));
    const seen = await watch(topic);
    // Two instances in their own groups: both get the whole chunk at the same time.
    const [first, second] = await Promise.all([startNotifier(topic), startNotifier(topic)]);
    await Promise.all([first.joined, second.joined]);
    const sent = async () => (await outbox(ids)).filter((r) => r.status === 'sent').length;
    await waitFor(async () => (await sent()) === batch.length, {
      what: 'all sent',
      timeoutMs: 30_000,
    });
    // Each instance emits an ack for every ticket once it is settled (sent by either).
    await waitFor(() => ids.every((id) => seen.acks(id).length >= 2), {
      what: 'acks from both instances',
      timeoutMs: 30_000,
    });

    // A third instance, new group: the same chunk again from the start.
    const third = await startNotifier(topic);
    await third.joined;
    await waitFor(() => ids.every((id) => seen.acks(id).length >= 3), {
      what: 'acks re-emitted by the redelivery',
      timeoutMs: 30_000,
    });
    await new Promise((r) => setTimeout(r, 500));
    const mails = await mailbox(email);
    expect(mails).toHaveLength(batch.length);
    expect(new Set(mails.map((m) => m['Message-ID'])).size).toBe(batch.length);
    expect((await outbox(ids)).every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);
    for (const id of ids) expect(new Set(seen.acks(id).map((a) => a.event!.id)).size).toBe(1);
  });

  it('dead-letters only the record whose mail the server refuses; the rest of the chunk is sent', async () => {
    const front = await smtpFront('selective');
    try {
      const ok = Array.from({ length: 6 }, (_, i) =>
        routedEvent(`${unique(`fine${i}`)}@example.test`),
      );
      const refused = routedEvent(`${unique('reject')}@example.test`);
      const batch = [...ok.slice(0, 3), refused, ...ok.slice(3)];
      const topic = await topicWith(batch);
      const dead = await watch(dlqTopicOf(topic));
      const seen = await watch(topic);
      const app = await startNotifier(topic, {
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(front.port),
        SMTP_TIMEOUT_MS: '5000',
      });
      await app.joined;
      const letter = await waitFor(() => dead.all.find((d) => d.key === refused.ticketId), {
        what: 'the dead letter',
        timeoutMs: 30_000,
      });
      expect(letter.headers['x-error-code']).toBe('SMTP_REJECTED');
      expect(letter.headers['x-error-message']).toMatch(/550/);
      await waitFor(() => ok.every((e) => seen.acks(e.ticketId).length >= 1), {
        what: 'acks of the accepted mails',
      });
      const rows = await outbox(batch.map((e) => e.ticketId));
      expect(rows.find((r) => r.ticket_id === refused.ticketId)).toMatchObject({
        status: 'failed',
        reason: 'smtp_550',
        attempts: 1,
      });
      expect(rows.filter((r) => r.status === 'sent' && r.attempts === 1)).toHaveLength(ok.length);
      expect(dead.all).toHaveLength(1);
    } finally {
      await front.close();
    }
  });
});

import { randomUUID } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import { decodeEvent, encodeEvent, makeEvent, type Envelope } from '@mailroom/events';
import {
  createKafka,
  createProducer,
  parseBrokers,
  runConsumer,
  type MailroomProducer,
  type RunningConsumer,
} from '@mailroom/kafka';
import { findReplyToken, verifyReplyToken } from '@mailroom/mail';
import { Registry } from 'prom-client';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import { createMailUser, mailbox, parse, routedEvent } from '../test/support.js';
import { NotifierConfig } from './config.js';
import { start } from './start.js';

const SECRET = 'notifier-test-secret-0123456789';
const logger = testLogger();
const pool = createPool({ url: stackEnv('DATABASE_URL') });
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'notifier-test',
  logger,
});
const events: Envelope[] = [];
let producer: MailroomProducer;
let watcher: RunningConsumer;
let app: Awaited<ReturnType<typeof start>>;
// Own topic: notifiers of parallel test runs must not send (or suppress) our mails.
const topic = unique('test.notifier.events');

beforeAll(async () => {
  const config = loadConfig(NotifierConfig, {
    ...process.env,
    NOTIFIER_GROUP_ID: unique('notifier'),
    NOTIFIER_EVENTS_TOPIC: topic,
    METRICS_PORT: '0',
    REPLY_TOKEN_SECRET: SECRET,
    ACK_RATE_LIMIT_PER_HOUR: '5',
  });
  app = await start(config, { logger });
  producer = await createProducer(kafka);
  watcher = await runConsumer({
    kafka,
    producer,
    logger,
    registry: new Registry(),
    groupId: unique('notifier-watch'),
    topics: [topic],
    fromBeginning: true,
    handler: async (r) => void events.push(decodeEvent(r.value)),
  });
  await Promise.all([app.joined, watcher.joined]);
  await new Promise((r) => setTimeout(r, 1000));
}, 120_000);

afterAll(async () => {
  await watcher.stop();
  await app.stop();
  await producer.disconnect();
  await pool.end();
});

const send = (e: Envelope) => producer.send(topic, [encodeEvent(e, e.ticketId ?? e.id)]);

const outbox = (ticketId: string) =>
  pool
    .query<{ template: string; status: string; reason: string | null; message_id: string }>(
      'SELECT template, status, reason, message_id FROM notifier_outbox WHERE ticket_id = $1 ORDER BY created_at',
      [ticketId],
    )
    .then((r) => r.rows);

async function imapMessagesWithSubject(user: string, password: string, subject: string) {
  const client = new ImapFlow({
    host: stackEnv('IMAP_HOST'),
    port: Number(stackEnv('IMAP_PORT')),
    secure: false,
    auth: { user, pass: password },
    logger: false,
  });
  await client.connect();
  const lock = await client.getMailboxLock('INBOX');
  try {
    const uids = (await client.search({ subject }, { uid: true })) || [];
    const out = [];
    for (const uid of uids) {
      const msg = await client.fetchOne(String(uid), { source: true }, { uid: true });
      if (msg && msg.source) out.push(await simpleParser(msg.source));
    }
    return out;
  } finally {
    lock.release();
    await client.logout();
  }
}

describe('notifier', () => {
  it('acknowledges a routed ticket once: tag, reply token, threading, ticket.acknowledged', async () => {
    const title = `Printer on fire ${randomUUID().slice(0, 8)}`;
    // A mailbox of its own (login and password = address):
    // other runs' acknowledgements to alice@ would trip the per-requester rate limit.
    const email = await createMailUser(`${unique('ack')}@example.test`);
    const routed = routedEvent(email, { title });
    await send(routed);
    await send(routed);
    await send(routed); // the same event three times: one mail
    const mails = await waitFor(
      async () => {
        const found = await imapMessagesWithSubject(email, email, title);
        return found.length > 0 && found;
      },
      { what: 'the acknowledgement in the INBOX', timeoutMs: 30_000 },
    );
    await waitFor(
      () =>
        events.filter((e) => e.ticketId === routed.ticketId && e.type === 'ticket.acknowledged')
          .length >= 3,
      { what: 'ticket.acknowledged (re-emitted per delivery)', timeoutMs: 30_000 },
    );
    await new Promise((r) => setTimeout(r, 500));
    const again = await imapMessagesWithSubject(email, email, title);
    expect(again).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.subject).toBe(`[#${routed.payload.number}] We received your request: ${title}`);
    expect(mail.inReplyTo).toBe(routed.payload.messageId);
    expect(mail.headers.get('auto-submitted')).toBe('auto-replied');
    const token = findReplyToken([mail.replyTo?.value[0]?.address ?? '']);
    expect(verifyReplyToken(token ?? '', SECRET)).toMatchObject({
      ok: true,
      ticketId: routed.ticketId,
    });
    expect(mail.text).toContain('IT Support');
    expect(mail.text).toContain('within 1 business day');
    expect(mail.messageId).toMatch(/@mailroom\.example\.test>$/);
    const acks = events.filter(
      (e) => e.ticketId === routed.ticketId && e.type === 'ticket.acknowledged',
    ) as Envelope<'ticket.acknowledged'>[];
    expect(new Set(acks.map((a) => a.id)).size).toBe(1);
    expect(acks[0]!.payload.messageId).toBe(mail.messageId);
    expect(await outbox(routed.ticketId)).toEqual([
      expect.objectContaining({ template: 'acknowledgement', status: 'sent' }),
    ]);
  });

  it('mails the requester when the status changes', async () => {
    const email = await createMailUser(`${unique('status')}@example.test`);
    const routed = routedEvent(email);
    await send(routed);
    for (const [from, to] of [
      ['pending', 'in_progress'],
      ['in_progress', 'resolved'],
    ] as const) {
      await send(
        makeEvent('ticket.status_changed', {
          ticketId: routed.ticketId,
          source: 'test',
          payload: {
            from,
            to,
            actor: { type: 'agent', id: 'agent@example.test' },
            number: routed.payload.number,
            requester: routed.payload.requester,
            title: routed.payload.title,
          },
        }),
      );
    }
    const mails = await waitFor(
      async () => {
        const m = await mailbox(email);
        return m.length >= 3 && m;
      },
      { what: 'ack + two status mails', timeoutMs: 30_000 },
    );
    const parsed = await Promise.all(mails.map(parse));
    const subjects = parsed.map((p) => p.subject);
    expect(subjects).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/We are working on your request/),
        expect.stringMatching(/has been resolved/),
      ]),
    );
    const resolved = parsed.find((p) => /resolved/.test(p.subject ?? ''))!;
    expect(resolved.text).toMatch(/reply to this message: your reply reopens the ticket/);
    expect(resolved.inReplyTo).toBe(routed.payload.messageId);
  });

  it('never mails noreply, undeliverable or automated requesters, and rate-limits acks', async () => {
    const bounced = `${unique('bounced')}@example.test`;
    await pool.query(
      "INSERT INTO undeliverable_addresses (address, reason, bounced_at) VALUES ($1, '550 5.1.1 user unknown', now())",
      [bounced],
    );
    const noreply = routedEvent(`no-reply@${unique('shop')}.example.test`);
    const undeliverable = routedEvent(bounced);
    const auto = routedEvent(`${unique('ooo')}@example.test`);
    const now = new Date().toISOString();
    await send(
      makeEvent('ticket.created', {
        ticketId: auto.ticketId,
        source: 'test',
        payload: {
          number: auto.payload.number,
          title: 'Out of office',
          description: 'I am away',
          requester: auto.payload.requester,
          channel: 'email',
          status: 'pending',
          attachments: [],
          automated: true,
          createdAt: now,
          receivedAt: now,
        },
      }),
    );
    const busy = await createMailUser(`${unique('busy')}@example.test`);
    const many = Array.from({ length: 7 }, () => routedEvent(busy));
    for (const e of [noreply, undeliverable, auto, ...many]) await send(e);

    const reasonOf = async (ticketId: string) =>
      waitFor(async () => (await outbox(ticketId))[0], { what: `outbox row of ${ticketId}` });
    expect(await reasonOf(noreply.ticketId)).toMatchObject({
      status: 'suppressed',
      reason: 'noreply_address',
    });
    expect(await reasonOf(undeliverable.ticketId)).toMatchObject({
      status: 'suppressed',
      reason: 'undeliverable',
    });
    expect(await reasonOf(auto.ticketId)).toMatchObject({
      status: 'suppressed',
      reason: 'automated_sender',
    });
    const rows = await Promise.all(many.map((e) => reasonOf(e.ticketId)));
    await waitFor(async () => (await mailbox(busy)).length >= 5, { what: 'five acks' });
    expect(
      rows.filter((r) => r.status === 'suppressed' && r.reason === 'rate_limited'),
    ).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 500));
    expect(await mailbox(busy)).toHaveLength(5);
    expect(await mailbox(bounced)).toHaveLength(0);
    expect(await mailbox(auto.payload.requester.email)).toHaveLength(0);
  });
});

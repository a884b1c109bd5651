import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import {
  DLQ_TOPICS,
  TOPICS,
  decodeEvent,
  encodeEvent,
  makeEvent,
  type Envelope,
} from '@mailroom/events';
import {
  createKafka,
  createProducer,
  parseBrokers,
  runConsumer,
  type MailroomProducer,
} from '@mailroom/kafka';
import { Registry } from 'prom-client';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import { TicketStoreConfig } from './config.js';
import { start } from './start.js';
import { ticketIdOfSubmission } from './handle-submission.js';

const logger = testLogger();
const pool = createPool({ url: stackEnv('DATABASE_URL') });
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'ts-test',
  logger,
});
let producer: MailroomProducer;
let app: Awaited<ReturnType<typeof start>>;
const events: Envelope[] = [];
const dead: { key: string | null; headers: Record<string, string>; value: string }[] = [];
let watchers: { stop(): Promise<void>; joined: Promise<void> }[] = [];

beforeAll(async () => {
  const config = loadConfig(TicketStoreConfig, {
    ...process.env,
    TICKET_STORE_GROUP_ID: unique('ticket-store'),
    METRICS_PORT: '0',
    // A new group from the newest record: the topic may hold a benchmark's backlog.
    TICKET_STORE_FROM_BEGINNING: 'false',
  });
  app = await start(config, { logger });
  producer = await createProducer(kafka);
  watchers = [
    await runConsumer({
      kafka,
      producer,
      logger,
      registry: new Registry(),
      groupId: unique('watch'),
      topics: [TOPICS.events],
      fromBeginning: false,
      handler: async (r) => void events.push(decodeEvent(r.value)),
    }),
    await runConsumer({
      kafka,
      producer,
      logger,
      registry: new Registry(),
      groupId: unique('watch-dlq'),
      topics: [DLQ_TOPICS.raw],
      fromBeginning: false,
      handler: async (r) =>
        void dead.push({ key: r.key, headers: r.headers, value: r.value?.toString() ?? '' }),
    }),
  ];
  await Promise.all([app.joined, ...watchers.map((w) => w.joined)]);
  await new Promise((r) => setTimeout(r, 1000)); // offsets of the new groups are resolved
}, 120_000);

afterAll(async () => {
  await Promise.all(watchers.map((w) => w.stop()));
  await app.stop();
  await producer.disconnect();
  await pool.end();
});

function submission(overrides: Partial<Envelope<'raw.api_submission'>['payload']> = {}) {
  return makeEvent('raw.api_submission', {
    ticketId: null,
    source: 'test',
    payload: {
      submissionId: randomUUID(),
      title: 'VPN drops every hour',
      description:
        "Since Monday the VPN disconnects; <script>alert(1)</script> '; drop table tickets; --",
      requester: { email: `${unique('req')}@example.test`, name: 'Ada' },
      hints: { priority: 'high' },
      receivedAt: new Date().toISOString(),
      ...overrides,
    },
  });
}

const sendRaw = (e: Envelope) => {
  const r = encodeEvent(e, (e.payload as { submissionId: string }).submissionId);
  return producer.send(TOPICS.raw, [r]);
};

describe('ticket-store', () => {
  it('creates one ticket per submission even when the record is delivered three times', async () => {
    const sub = submission();
    await sendRaw(sub);
    await sendRaw(sub);
    await sendRaw(sub);
    const id = ticketIdOfSubmission(sub.payload.submissionId);
    const created = await waitFor(
      () =>
        events.filter((e) => e.ticketId === id && e.type === 'ticket.created').length >= 3 &&
        events,
      { what: 'three ticket.created emissions', timeoutMs: 30_000 },
    ).then((all) => all.filter((e) => e.ticketId === id && e.type === 'ticket.created'));
    expect(new Set(created.map((e) => e.id)).size).toBe(1); // same event id every time
    const { rows } = await pool.query(
      'select number, title, description, status, priority, channel from tickets where id = $1',
      [id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'pending',
      priority: 'high',
      channel: 'api',
      description: sub.payload.description,
    });
    expect((created[0]!.payload as { number: number }).number).toBe(Number(rows[0].number));
    const messages = await pool.query(
      'select count(*)::int as n from ticket_messages where ticket_id = $1',
      [id],
    );
    expect(messages.rows[0].n).toBe(1);
  });

  it('dead-letters invalid records with the reason and source coordinates', async () => {
    const bad = submission();
    (bad.payload as { requester: unknown }).requester = { email: 'not-an-address' };
    // Other test files dead-letter records on the same topic: this test's have its keys.
    const keys = [unique('k1'), unique('k2'), unique('k3')];
    await producer.send(TOPICS.raw, [
      { key: keys[0]!, value: JSON.stringify(bad) },
      { key: keys[1]!, value: 'not json at all' },
      { key: keys[2]!, value: Buffer.from([0xff, 0xfe, 0x00]) },
    ]);
    const mine = () => dead.filter((d) => d.key !== null && keys.includes(d.key));
    await waitFor(() => mine().length >= 3, { what: 'three dead letters', timeoutMs: 30_000 });
    const reasons = mine().map((d) => d.headers['x-error-message']);
    expect(reasons.some((r) => /requester\/email/.test(r ?? ''))).toBe(true);
    expect(reasons.some((r) => /not JSON/.test(r ?? ''))).toBe(true);
    expect(
      mine().every(
        (d) => d.headers['x-source-topic'] === TOPICS.raw && d.headers['x-source-offset'],
      ),
    ).toBe(true);
    expect(mine().every((d) => d.headers['x-error-code'] === 'EVENT_INVALID')).toBe(true);
  });

  it('applies valid status commands once and rejects invalid transitions with a reason', async () => {
    const sub = submission();
    await sendRaw(sub);
    const id = ticketIdOfSubmission(sub.payload.submissionId);
    await waitFor(
      async () => (await pool.query('select 1 from tickets where id = $1', [id])).rowCount,
      { what: 'ticket' },
    );
    const command = (status: 'in_progress' | 'resolved' | 'closed' | 'pending') =>
      makeEvent('command.update_ticket', {
        ticketId: id,
        source: 'test',
        payload: {
          commandId: randomUUID(),
          changes: { status },
          actor: { type: 'agent', id: 'agent@example.test' },
        },
      });
    const toClosed = command('closed');
    const reopen = command('pending');
    await producer.send(TOPICS.commands, [
      encodeEvent(toClosed, id),
      encodeEvent(toClosed, id),
      encodeEvent(reopen, id),
    ]);
    const rejected = await waitFor(
      () => events.find((e) => e.type === 'ticket.command_rejected' && e.ticketId === id),
      { what: 'rejection', timeoutMs: 30_000 },
    );
    expect(rejected.payload).toMatchObject({
      code: 'INVALID_TRANSITION',
      reason: 'cannot change status from closed to pending',
    });
    const changed = events.filter((e) => e.type === 'ticket.status_changed' && e.ticketId === id);
    expect(new Set(changed.map((e) => e.id)).size).toBe(1);
    expect(changed[0]?.payload).toMatchObject({ from: 'pending', to: 'closed' });
    const history = await pool.query(
      'select to_status from ticket_status_history where ticket_id = $1',
      [id],
    );
    expect(history.rows).toEqual([{ to_status: 'closed' }]);
    const log = await pool.query(
      'select outcome, reason from ticket_commands where ticket_id = $1 order by at',
      [id],
    );
    expect(log.rows.map((r) => r.outcome).sort()).toEqual(['applied', 'rejected']);
  });

  it('threads an email reply from the requester, and not one from a stranger', async () => {
    const requester = `${unique('cust')}@example.test`;
    const mail = (
      messageId: string,
      from: string,
      extra: Partial<Envelope<'raw.email_received'>['payload']> = {},
    ) =>
      makeEvent('raw.email_received', {
        ticketId: null,
        source: 'test',
        payload: {
          mailbox: 'support@example.test',
          messageId,
          references: [],
          from: { email: from },
          to: [{ email: 'support@example.test' }],
          cc: [],
          subject: 'Printer jammed',
          text: 'It jams.',
          replyText: 'It jams.',
          attachments: [],
          automated: { automated: false, kind: null, reason: null },
          threadHints: {},
          problems: [],
          receivedAt: new Date().toISOString(),
          ...extra,
        },
      });
    const first = mail(`<${randomUUID()}@customer.test>`, requester);
    await producer.send(TOPICS.raw, [encodeEvent(first, first.payload.messageId)]);
    const created = await waitFor(
      () =>
        events.find(
          (e) =>
            e.type === 'ticket.created' &&
            (e.payload as { messageId?: string }).messageId === first.payload.messageId,
        ),
      { what: 'email ticket', timeoutMs: 30_000 },
    );
    const reply = mail(`<${randomUUID()}@customer.test>`, requester, {
      inReplyTo: first.payload.messageId,
      replyText: 'Still jams.',
    });
    const stranger = mail(`<${randomUUID()}@evil.test>`, 'mallory@evil.test', {
      inReplyTo: first.payload.messageId,
    });
    await producer.send(TOPICS.raw, [
      encodeEvent(reply, reply.payload.messageId),
      encodeEvent(stranger, stranger.payload.messageId),
    ]);
    await waitFor(
      () =>
        events.find((e) => e.type === 'ticket.message_added' && e.ticketId === created.ticketId),
      { what: 'threaded reply', timeoutMs: 30_000 },
    );
    await waitFor(
      () =>
        events.find(
          (e) =>
            e.type === 'ticket.created' &&
            (e.payload as { requester: { email: string } }).requester.email === 'mallory@evil.test',
        ),
      { what: 'stranger opens a new ticket', timeoutMs: 30_000 },
    );
    const msgs = await pool.query(
      'select reply_text from ticket_messages where ticket_id = $1 order by created_at',
      [created.ticketId],
    );
    expect(msgs.rows.map((r) => r.reply_text)).toEqual(['It jams.', 'Still jams.']);
  });
});

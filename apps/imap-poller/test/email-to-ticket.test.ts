// End to end through GreenMail: SMTP → IMAP → imap-poller → tickets.raw → ticket-store → Postgres.
import { randomUUID } from 'node:crypto';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import { TOPICS } from '@mailroom/events';
import { createKafka, createProducer, parseBrokers, type MailroomProducer } from '@mailroom/kafka';
import { replyAddress, signReplyToken } from '@mailroom/mail';
import { start as startTicketStore, TicketStoreConfig } from '@mailroom/ticket-store';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import { ImapPollerConfig } from '../src/config.js';
import { start, type ImapPoller } from '../src/start.js';
import {
  dropMailbox,
  greenmailMailbox,
  pollerEnv,
  watch,
  type TestMailbox,
  type Watched,
} from './support.js';

// The secret every test ticket-store uses (test/global-setup.ts).
const SECRET = stackEnv('REPLY_TOKEN_SECRET');
const logger = testLogger();
const pool = createPool({ url: stackEnv('DATABASE_URL') });
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'e2e',
  logger,
});
const smtp = nodemailer.createTransport({
  host: stackEnv('SMTP_HOST'),
  port: Number(stackEnv('SMTP_PORT')),
  secure: false,
});
let box: TestMailbox;
let poller: ImapPoller;
let store: Awaited<ReturnType<typeof startTicketStore>>;
let producer: MailroomProducer;
let events: Watched;

beforeAll(async () => {
  box = await greenmailMailbox();
  store = await startTicketStore(
    loadConfig(TicketStoreConfig, {
      ...process.env,
      TICKET_STORE_GROUP_ID: unique('ts-e2e'),
      TICKET_STORE_FROM_BEGINNING: 'false',
      METRICS_PORT: '0',
    }),
    { logger },
  );
  producer = await createProducer(kafka);
  events = await watch(kafka, producer, logger, TOPICS.events, true);
  await Promise.all([store.joined, events.consumer.joined]);
  await new Promise((r) => setTimeout(r, 1000)); // offsets of the new groups are resolved
  poller = await start(
    loadConfig(ImapPollerConfig, {
      ...process.env,
      ...pollerEnv(box),
      METRICS_PORT: '0',
      // Far beyond the 2 s budget: a ticket in time proves IDLE push, not the poll.
      IMAP_POLL_INTERVAL_MS: '120000',
    }),
    { logger },
  );
  await waitFor(() => poller.mailboxes()[0]?.idling, { what: 'poller idling' });
}, 120_000);

afterAll(async () => {
  await poller?.stop();
  if (box) await dropMailbox(box);
  await events?.consumer.stop();
  await store?.stop();
  await producer?.disconnect();
  await pool.end();
  smtp.close();
});

type Row = { id: string; number: number; status: string };
const ticketOf = async (messageId: string) =>
  (
    await pool.query<Row>(
      'select id, number::int as number, status from tickets where message_id = $1',
      [messageId],
    )
  ).rows[0];
const statusOf = async (id: string) =>
  (await pool.query<Row>('select status from tickets where id = $1', [id])).rows[0]?.status;
const messagesOf = async (id: string) =>
  (
    await pool.query<{ reply_text: string; author_email: string }>(
      'select reply_text, author_email from ticket_messages where ticket_id = $1 order by created_at',
      [id],
    )
  ).rows;

async function send(mail: SendMailOptions): Promise<string> {
  const messageId = `<${randomUUID()}@customer.test>`;
  await smtp.sendMail({ messageId, ...mail });
  return messageId;
}

describe('email to ticket through GreenMail', () => {
  const requester = `${unique('ada')}@customer.test`;
  let ticket: Row;
  let first: string;

  it('turns a customer mail into a ticket within 2 s of delivery (IDLE)', async () => {
    const sentAt = Date.now();
    first = await send({
      from: `Ada <${requester}>`,
      to: box.user,
      subject: 'Printer on floor 3 is jammed',
      text: 'Hello,\n\nthe printer jams on every page.\n\nAda',
    });
    ticket = await waitFor(() => ticketOf(first), {
      what: 'ticket in Postgres',
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    const latencyMs = Date.now() - sentAt;
    console.log(`[e2e] delivery → ticket in Postgres: ${latencyMs} ms`);
    expect(latencyMs).toBeLessThan(2000);
    expect(ticket.status).toBe('pending');
  });

  it('threads a reply by In-Reply-To and one by the reply-token address', async () => {
    await send({
      from: requester,
      to: box.user,
      subject: 'Re: Printer on floor 3 is jammed',
      inReplyTo: first,
      references: [first],
      text: 'It also smells burnt.\n\nOn Monday support wrote:\n> we are looking into it',
    });
    // GreenMail has no plus-addressing (it would create a user per tag): deliver to
    // the mailbox and carry the token address in To, as a real MTA leaves it.
    const tokenAddress = replyAddress(box.user, signReplyToken(ticket.id, SECRET));
    await send({
      envelope: { from: requester, to: box.user },
      from: requester,
      to: tokenAddress,
      subject: 'new subject, no headers to thread on',
      text: 'A photo of the jam would not attach, sorry.',
    });
    const rows = await waitFor(
      async () => ((await messagesOf(ticket.id)).length >= 3 ? messagesOf(ticket.id) : null),
      {
        what: 'two replies on the ticket',
      },
    );
    // The replies are keyed by what threads them (the root Message-ID, the reply token):
    // two partitions, so either may be stored first.
    const [opening, ...replies] = rows.map((r) => r.reply_text);
    expect(opening).toBe('Hello,\n\nthe printer jams on every page.\n\nAda');
    expect(replies.sort()).toEqual([
      'A photo of the jam would not attach, sorry.',
      'It also smells burnt.',
    ]);
  });

  it('lets the requester resolve by "#status resolved", not a stranger', async () => {
    const stranger = `${unique('mallory')}@evil.test`;
    const strangerMail = await send({
      from: stranger,
      to: box.user,
      subject: `Re: Printer on floor 3 is jammed [#${ticket.number}]`,
      inReplyTo: first,
      text: '#status resolved\n\nclosing this for you',
    });
    // A stranger with the (leaked) token address is threaded, but the command is refused.
    const tokenAddress = replyAddress(box.user, signReplyToken(ticket.id, SECRET));
    await send({
      envelope: { from: stranger, to: box.user },
      from: stranger,
      to: tokenAddress,
      subject: 'Re: Printer',
      text: '#close',
    });
    const rejected = await waitFor(
      () =>
        events.events.find((e) => e.type === 'ticket.command_rejected' && e.ticketId === ticket.id),
      { what: 'rejected command' },
    );
    expect(rejected.payload).toMatchObject({ code: 'NOT_AUTHORIZED' });
    const own = await waitFor(() => ticketOf(strangerMail), { what: "the stranger's own ticket" });
    expect(own.id).not.toBe(ticket.id);
    expect(await statusOf(ticket.id)).toBe('pending');

    await send({
      from: requester,
      to: box.user,
      subject: 'Re: Printer on floor 3 is jammed',
      inReplyTo: first,
      text: '#status resolved\n\nWorks again, thanks!',
    });
    await waitFor(async () => (await statusOf(ticket.id)) === 'resolved', { what: 'resolved' });
    const history = await pool.query(
      'select from_status, to_status, actor_type, actor_id from ticket_status_history where ticket_id = $1',
      [ticket.id],
    );
    expect(history.rows).toEqual([
      {
        from_status: 'pending',
        to_status: 'resolved',
        actor_type: 'requester',
        actor_id: requester,
      },
    ]);
    const commands = await pool.query(
      'select outcome, code, actor_id from ticket_commands where ticket_id = $1 order by at',
      [ticket.id],
    );
    expect(commands.rows).toEqual([
      { outcome: 'rejected', code: 'NOT_AUTHORIZED', actor_id: stranger },
      { outcome: 'applied', code: null, actor_id: requester },
    ]);
    const mailbox = poller.mailboxes()[0]!;
    expect(mailbox).toMatchObject({ connected: true, error: null });
  });
});

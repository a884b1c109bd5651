// The whole mail loop through GreenMail, with every app as `npm start` runs it: a
// customer's mail becomes a ticket, exactly one acknowledgement comes back threaded to it
// with a signed Reply-To, a status change over the API mails the customer, a reply to the
// acknowledgement lands on the same ticket, and automated mail (bounces, auto-replies,
// feedback reports) never gets an answer.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { loadConfig } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import { ImapPollerConfig, start as startImapPoller } from '@mailroom/imap-poller';
import { IntakeConfigSchema, start as startIntake } from '@mailroom/intake-api';
import { verifyReplyToken, findReplyToken } from '@mailroom/mail';
import { stackEnv, testLogger, unique, waitFor } from '../support/env.js';
import { createMailUser, mailbox, parse } from '../support/greenmail.js';
import { startConsumers } from '../support/in-process.js';
import { sharedDataDir } from '../support/shared-data.js';

const domain = stackEnv('MAIL_DOMAIN');
const support = `${unique('helpdesk')}@${domain}`;
const customer = `${unique('customer')}@${domain}`;
const key = `${unique('loop-key')}-0123456789`;
const pool = createPool({ url: stackEnv('DATABASE_URL') });
const stops: (() => Promise<void>)[] = [];
let api = '';

beforeAll(async () => {
  await createMailUser(support);
  await createMailUser(customer);
  const logger = testLogger('mail-loop');
  const env = (extra: Record<string, string>) => ({ ...process.env, METRICS_PORT: '0', ...extra });
  const id = unique('loop');
  const consumers = await startConsumers(
    id,
    ['ticket-store', 'categorizer', 'router', 'notifier'],
    logger,
    { SUPPORT_ADDRESS: support },
  );
  const poller = await startImapPoller(
    loadConfig(
      ImapPollerConfig,
      env({
        IMAP_USER: support,
        IMAP_PASSWORD: support,
        IMAP_POLL_INTERVAL_MS: '2000',
        MAIL_OUR_ADDRESSES: support,
      }),
    ),
    { logger },
  );
  const intake = await startIntake(
    loadConfig(IntakeConfigSchema, {
      ...process.env,
      PORT: '0',
      BOOTSTRAP_API_KEYS: `${id}:agent:${key}`,
    }),
    { logger },
  );
  api = `http://127.0.0.1:${intake.port}`;
  stops.push(intake.stop, poller.stop, ...consumers);
  await new Promise((r) => setTimeout(r, 1000));
}, 180_000);

afterAll(async () => {
  for (const stop of stops) await stop();
  await pool.end();
});

const smtp = () =>
  nodemailer.createTransport({
    host: stackEnv('SMTP_HOST'),
    port: Number(stackEnv('SMTP_PORT')),
    secure: false,
  });

describe('mail loop through GreenMail', () => {
  it('acknowledges once, threads, mails status changes and threads the reply to the ack', async () => {
    const subject = `Laptop ${unique('x')} will not boot`;
    const transport = smtp();
    const sent = await transport.sendMail({
      from: `Dana <${customer}>`,
      to: support,
      subject,
      text: 'Since this morning my laptop shows a black screen.',
    });
    const acks = await waitFor(
      async () => {
        const all = await Promise.all((await mailbox(customer)).map(parse));
        const mine = all.filter((m) => m.inReplyTo === sent.messageId);
        return mine.length > 0 ? mine : undefined;
      },
      { what: 'the acknowledgement', timeoutMs: 60_000, intervalMs: 500 },
    );
    const ack = acks[0]!;
    const { rows } = await pool.query<{ id: string; number: string }>(
      'select id, number from tickets where message_id = $1',
      [sent.messageId],
    );
    expect(rows).toHaveLength(1);
    const ticket = rows[0]!;
    expect(ack.subject).toContain(`[#${ticket.number}]`);
    expect(ack.headers.get('auto-submitted')).toBe('auto-replied');
    const replyTo = ack.replyTo?.value[0]?.address ?? '';
    const token = findReplyToken([replyTo]);
    expect(token).not.toBeNull();
    expect(verifyReplyToken(token!, stackEnv('REPLY_TOKEN_SECRET'))).toMatchObject({
      ok: true,
      ticketId: ticket.id,
    });

    // The customer replies to the acknowledgement (the token address in Cc, as a mail
    // client that keeps Reply-To does); it lands on the same ticket.
    const reply = await transport.sendMail({
      from: customer,
      to: support,
      cc: replyTo,
      subject: `Re: ${ack.subject ?? ''}`,
      inReplyTo: ack.messageId,
      references: [sent.messageId, ack.messageId ?? ''],
      text: `It also beeps three times.\n\nOn Monday Support wrote:\n> We received your request`,
    });
    await waitFor(
      async () => {
        const { rows: msgs } = await pool.query<{ reply_text: string }>(
          'select reply_text from ticket_messages where ticket_id = $1 and message_id = $2',
          [ticket.id, reply.messageId],
        );
        return msgs[0]?.reply_text === 'It also beeps three times.';
      },
      { what: 'the reply on the same ticket', timeoutMs: 60_000, intervalMs: 500 },
    );

    // The queue shows how the ticket was categorized (the console's badges).
    const list = await fetch(`${api}/api/tickets?requester=${encodeURIComponent(customer)}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const items = ((await list.json()) as { items: Record<string, unknown>[] }).items;
    expect(items[0]).toMatchObject({ id: ticket.id, categorizationMethod: 'local' });
    expect(typeof items[0]!.confidence).toBe('number');

    // A status change over the API mails the customer.
    const res = await fetch(`${api}/api/tickets/${ticket.id}/status`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'resolved', reason: 'replaced the battery' }),
    });
    expect(res.status).toBe(202);
    await waitFor(
      async () => {
        const all = await Promise.all((await mailbox(customer)).map(parse));
        return all.find(
          (m) => m.subject?.includes(`[#${ticket.number}]`) && /resolved/i.test(m.text ?? ''),
        );
      },
      { what: 'the status mail', timeoutMs: 60_000, intervalMs: 500 },
    );
    transport.close();

    // Exactly one acknowledgement and one status mail, both threaded to the request.
    const final = await Promise.all((await mailbox(customer)).map(parse));
    expect(final.filter((m) => m.inReplyTo === sent.messageId)).toHaveLength(2);
    const outbox = await pool.query<{ template: string; status: string }>(
      'select template, status from notifier_outbox where ticket_id = $1 order by created_at',
      [ticket.id],
    );
    expect(outbox.rows).toEqual([
      { template: 'acknowledgement', status: 'sent' },
      { template: 'status-resolved', status: 'sent' },
    ]);
  }, 180_000);

  it('never answers automated mail: bounces, auto-replies and feedback reports make no ticket', async () => {
    const dir = join(sharedDataDir(), 'mail/bounces/sisimai/automated');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.eml'))
      .sort();
    // The whole corpus: 629 bounces (DSNs of ~70 MTAs), ARF reports and RFC 3834 auto-replies.
    const sample = files;
    expect(sample.length).toBeGreaterThan(600);
    // Delivered as the MTA stored them (null return paths and all): IMAP APPEND.
    const client = new ImapFlow({
      host: stackEnv('IMAP_HOST'),
      port: Number(stackEnv('IMAP_PORT')),
      secure: false,
      auth: { user: support, pass: support },
      logger: false,
    });
    await client.connect();
    for (const f of sample) await client.append('INBOX', readFileSync(join(dir, f)));
    await client.logout();
    // The poller has read them all when its checkpoint covers them.
    await waitFor(
      async () => {
        const { rows } = await pool.query<{ last_uid: string }>(
          'select last_uid from imap_checkpoints where mailbox = $1',
          [support],
        );
        return Number(rows[0]?.last_uid ?? 0) >= sample.length + 2;
      },
      { what: 'the poller to read the corpus', timeoutMs: 90_000, intervalMs: 500 },
    );
    await new Promise((r) => setTimeout(r, 3000)); // ticket-store and notifier catch up
    const { rows } = await pool.query<{ n: number }>(
      `select count(*)::int as n from tickets where source_key like $1 and requester_email <> $2`,
      [`email:${support}:%`, customer],
    );
    expect(rows[0]!.n).toBe(0);
    const outbox = await pool.query<{ n: number }>(
      `select count(*)::int as n from notifier_outbox o join tickets t on t.id = o.ticket_id
        where t.source_key like $1 and t.requester_email <> $2`,
      [`email:${support}:%`, customer],
    );
    expect(outbox.rows[0]!.n).toBe(0);
  }, 180_000);
});

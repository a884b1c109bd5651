import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool } from '@mailroom/db';
import type { EmailReceived, Envelope } from '@mailroom/events';
import { replyAddress, signReplyToken } from '@mailroom/mail';
import { stackEnv, unique } from '../../../test/support/env.js';
import { handleEmail, type EmailOptions } from './handle-email.js';

const pool = createPool({ url: stackEnv('DATABASE_URL') });
afterAll(() => pool.end());

const SECRET = 'handle-email-test-secret-0123456789';
const options: EmailOptions = {
  replyTokenSecrets: [SECRET],
  agents: ['@agents.test'],
  requireMailAuth: false,
};
const MAILBOX = 'support@example.test';

function mail(from: string, extra: Partial<EmailReceived> = {}): EmailReceived {
  return {
    mailbox: MAILBOX,
    messageId: `<${randomUUID()}@customer.test>`,
    references: [],
    from: { email: from },
    to: [{ email: MAILBOX }],
    cc: [],
    subject: 'Laptop will not boot',
    text: 'It shows a black screen.',
    replyText: 'It shows a black screen.',
    attachments: [],
    automated: { automated: false, kind: null, reason: null },
    threadHints: {},
    problems: [],
    receivedAt: new Date().toISOString(),
    ...extra,
  };
}

const typesOf = (events: Envelope[]) => events.map((e) => e.type);
const status = async (id: string) =>
  (await pool.query<{ status: string }>('select status from tickets where id = $1', [id])).rows[0]
    ?.status;

async function openTicket(requester: string, extra: Partial<EmailReceived> = {}) {
  const first = mail(requester, extra);
  const events = await handleEmail(pool, first, options);
  expect(typesOf(events)).toEqual(['ticket.created']);
  return {
    first,
    ticketId: events[0]!.ticketId!,
    number: (events[0]!.payload as { number: number }).number,
  };
}

const reply = (from: string, to: EmailReceived, text: string, extra: Partial<EmailReceived> = {}) =>
  mail(from, {
    inReplyTo: to.messageId,
    references: [to.messageId],
    replyText: text,
    text,
    ...extra,
  });

describe('handleEmail', () => {
  it('opens no ticket for a bounce, records an out-of-office reply without reopening', async () => {
    const bounce = mail('mailer-daemon@mx.customer.test', {
      automated: { automated: true, kind: 'bounce', reason: 'DSN' },
    });
    expect(await handleEmail(pool, bounce, options)).toEqual([]);

    const requester = `${unique('ooo')}@customer.test`;
    const { first, ticketId } = await openTicket(requester);
    await pool.query(`update tickets set status = 'resolved' where id = $1`, [ticketId]);
    const ooo = reply(requester, first, 'I am out of office until Monday.', {
      automated: { automated: true, kind: 'auto_reply', reason: 'Auto-Submitted: auto-replied' },
    });
    const events = await handleEmail(pool, ooo, options);
    expect(typesOf(events)).toEqual(['ticket.message_added']);
    expect(events[0]!.payload).toMatchObject({ automatedKind: 'auto_reply' });
    expect(await status(ticketId)).toBe('resolved');
  });

  it('threads by a verified reply token first, and ignores a forged one', async () => {
    const requester = `${unique('tok')}@customer.test`;
    const { ticketId } = await openTicket(requester);
    const token = signReplyToken(ticketId, SECRET);
    const byToken = mail(`${unique('colleague')}@customer.test`, {
      to: [{ email: replyAddress(MAILBOX, token) }],
      threadHints: { replyToken: token },
    });
    const events = await handleEmail(pool, byToken, options);
    expect(events.map((e) => [e.type, e.ticketId])).toEqual([['ticket.message_added', ticketId]]);

    const forged = signReplyToken(ticketId, 'some-other-secret-0123456789');
    const byForged = mail(`${unique('mallory')}@evil.test`, {
      threadHints: { replyToken: forged },
    });
    const created = await handleEmail(pool, byForged, options);
    expect(typesOf(created)).toEqual(['ticket.created']);
    expect(created[0]!.ticketId).not.toBe(ticketId);
  });

  it('threads a subject tag from a CC’d party but not from a stranger', async () => {
    const requester = `${unique('cc')}@customer.test`;
    const colleague = `${unique('colleague')}@customer.test`;
    const { ticketId, number } = await openTicket(requester, { cc: [{ email: colleague }] });
    const tagged = (from: string) =>
      mail(from, {
        subject: `Re: [#${number}] Laptop`,
        threadHints: { subjectTicketNumber: number },
      });
    expect((await handleEmail(pool, tagged(colleague), options))[0]!.ticketId).toBe(ticketId);
    const stranger = await handleEmail(pool, tagged(`${unique('x')}@evil.test`), options);
    expect(typesOf(stranger)).toEqual(['ticket.created']);
  });

  it('lets requesters close and reopen, agents set any status, and records who', async () => {
    const requester = `${unique('cmd')}@customer.test`;
    const { first, ticketId } = await openTicket(requester);
    const asRequester = await handleEmail(
      pool,
      reply(requester, first, '#status in progress'),
      options,
    );
    expect(asRequester[1]).toMatchObject({
      type: 'ticket.command_rejected',
      payload: { code: 'NOT_AUTHORIZED' },
    });
    const agent = `${unique('agent')}@agents.test`;
    const asAgent = await handleEmail(
      pool,
      reply(agent, first, '#status in_progress\n\nOn it.'),
      options,
    );
    expect(asAgent[1]).toMatchObject({
      type: 'ticket.status_changed',
      payload: { from: 'pending', to: 'in_progress', actor: { type: 'agent', id: agent } },
    });
    const resolved = reply(requester, first, '#status resolved');
    await handleEmail(pool, resolved, options);
    expect(await status(ticketId)).toBe('resolved');
    // Redelivery of the same mail re-emits the same facts and changes nothing.
    const again = await handleEmail(pool, resolved, options);
    expect(again[1]).toMatchObject({ type: 'ticket.status_changed', payload: { to: 'resolved' } });
    await handleEmail(pool, reply(requester, first, '#reopen'), options);
    expect(await status(ticketId)).toBe('pending');
    await handleEmail(pool, reply(requester, first, '#close'), options);
    expect(await status(ticketId)).toBe('closed');
    const log = await pool.query(
      'select outcome, code, actor_id from ticket_commands where ticket_id = $1 order by at',
      [ticketId],
    );
    expect(log.rows.map((r) => [r.outcome, r.code, r.actor_id])).toEqual([
      ['rejected', 'NOT_AUTHORIZED', requester],
      ['applied', null, agent],
      ['applied', null, requester],
      ['applied', null, requester],
      ['applied', null, requester],
    ]);
    // Closed is final: writing again opens a new ticket.
    const after = await handleEmail(pool, reply(requester, first, 'One more thing'), options);
    expect(typesOf(after)).toEqual(['ticket.created']);
  });

  it('requires an aligned DKIM/SPF pass when REQUIRE_MAIL_AUTH is on', async () => {
    const strict = { ...options, requireMailAuth: true };
    const requester = `${unique('auth')}@customer.test`;
    const { first, ticketId } = await openTicket(requester);
    const unauth = await handleEmail(pool, reply(requester, first, '#close'), strict);
    expect(unauth[1]).toMatchObject({ payload: { code: 'NOT_AUTHORIZED' } });
    expect(await status(ticketId)).toBe('pending');
    const signed = reply(requester, first, '#close', {
      authenticationResults: ['mx.example.test; dkim=pass header.d=customer.test; spf=fail'],
    });
    const ok = await handleEmail(pool, signed, strict);
    expect(ok[1]).toMatchObject({ type: 'ticket.status_changed', payload: { to: 'closed' } });
  });

  it('puts a note on a ticket from an oversized mail', async () => {
    const m = mail(`${unique('big')}@customer.test`, {
      oversized: { limit: 1024, size: 4096 },
      rawBlobId: 'a'.repeat(64),
    });
    const [created] = await handleEmail(pool, m, options);
    expect((created!.payload as { description: string }).description).toMatch(
      /4096 bytes, above the 1024-byte limit.*blob a{64}/,
    );
  });
});

import type pg from 'pg';
import { withTransaction } from '@mailroom/db';
import {
  canTransition,
  deterministicId,
  type EmailReceived,
  type Envelope,
  type TicketStatus,
} from '@mailroom/events';
import {
  authorizeStatusCommand,
  matchesAddress,
  parseStatusCommand,
  resolveThread,
  verifyReplyToken,
  type TicketParticipants,
} from '@mailroom/mail';
import { insertTicket, lockTicket, requesterOf, type TicketRow } from './tickets-repo.js';
import { factEvent } from './emit.js';

export interface EmailOptions {
  /** Reply-token HMAC keys, current first (rotation). */
  replyTokenSecrets: string[];
  /** Agent addresses and `@domain`s. */
  agents: string[];
  requireMailAuth: boolean;
}

export function emailOptionsFromConfig(c: {
  REPLY_TOKEN_SECRET: string;
  AGENT_ADDRESSES: string;
  REQUIRE_MAIL_AUTH: boolean;
}): EmailOptions {
  const list = (s: string) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  return {
    replyTokenSecrets: list(c.REPLY_TOKEN_SECRET),
    agents: list(c.AGENT_ADDRESSES),
    requireMailAuth: c.REQUIRE_MAIL_AUTH,
  };
}

const DEFAULTS: EmailOptions = {
  replyTokenSecrets: ['dev-only-insecure-reply-token-secret'],
  agents: [],
  requireMailAuth: false,
};

type Db = pg.ClientBase;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Loads everything resolveThread may ask about, so the decision itself stays pure. */
async function findThread(db: Db, m: EmailReceived, o: EmailOptions) {
  const token = m.threadHints.replyToken ?? null;
  const verified = token ? verifyReplyToken(token, o.replyTokenSecrets) : null;
  const refs = [...m.references, ...(m.inReplyTo ? [m.inReplyTo] : [])];
  const number = m.threadHints.subjectTicketNumber ?? null;
  const { rows } = await db.query<{ id: string; number: number; message_id: string | null }>(
    // Both arms use their index (primary key, unique number): a cast of the id to text
    // made this a scan of the whole table for every mail.
    `select t.id, t.number::int as number, null as message_id from tickets t
       where t.id = $1::uuid or t.number = $2
     union all
     select i.ticket_id, null, i.message_id from ticket_thread_index i where i.message_id = any($3)`,
    [verified?.ok && UUID.test(verified.ticketId) ? verified.ticketId : null, number ?? -1, refs],
  );
  const ids = [...new Set(rows.map((r) => r.id))];
  const people = await db.query<{ ticket_id: string; email: string; requester: boolean }>(
    `select id as ticket_id, requester_email as email, true as requester from tickets where id = any($1)
     union select ticket_id, email, false from ticket_participants where ticket_id = any($1)
     union select ticket_id, lower(author_email), false from ticket_messages
       where ticket_id = any($1) and direction = 'inbound'`,
    [ids],
  );
  const participants = new Map<string, TicketParticipants>();
  for (const id of ids) participants.set(id, { ticketId: id, requester: '', cc: [] });
  for (const p of people.rows) {
    const t = participants.get(p.ticket_id)!;
    if (p.requester) t.requester = p.email;
    else (t.cc as string[]).push(p.email);
  }
  const byNumber = number === null ? undefined : rows.find((r) => r.number === number);
  const resolution = resolveThread(
    {
      replyToken: token,
      subjectTicketNumber: number,
      inReplyTo: m.inReplyTo ?? null,
      references: refs,
    },
    {
      secret: o.replyTokenSecrets,
      agents: o.agents,
      byTicketId: (id) => participants.get(id) ?? null,
      byTicketNumber: () => (byNumber ? (participants.get(byNumber.id) ?? null) : null),
      byMessageId: (mid) => {
        const hit = rows.find((r) => r.message_id === mid);
        return hit ? (participants.get(hit.id) ?? null) : null;
      },
    },
    m.from.email,
  );
  return resolution;
}

async function addParticipants(db: Db, ticketId: string, m: EmailReceived, o: EmailOptions) {
  // Our own mailbox (and its plus-addresses) is not a participant.
  const ours = m.mailbox.toLowerCase().split('/')[0] ?? '';
  const [local, domain] = ours.split('@');
  const isOurs = (e: string) =>
    e === ours || (e.startsWith(`${local}+`) && e.endsWith(`@${domain}`));
  const list = [m.from, ...m.to, ...m.cc]
    .map((p) => p.email.toLowerCase())
    .filter((e) => !isOurs(e));
  const roles = list.map((e) => (matchesAddress(e, o.agents) ? 'agent' : 'cc'));
  await db.query(
    `insert into ticket_participants (ticket_id, email, role)
     select $1, e, r from unnest($2::text[], $3::text[]) as t(e, r)
     on conflict do nothing`,
    [ticketId, list, roles],
  );
}

/** tickets.raw `raw.email_received` → a new ticket, or a message (and maybe a status change) on its thread. */
export async function handleEmail(
  pool: pg.Pool,
  m: EmailReceived,
  o: EmailOptions = DEFAULTS,
): Promise<Envelope[]> {
  const sourceKey = `email:${m.mailbox.toLowerCase()}:${m.messageId}`;
  const messageRowId = deterministicId('message', sourceKey);
  return withTransaction(pool, async (db) => {
    // A redelivered record stays where it was put the first time.
    const seen = await db.query<{ ticket_id: string; first: boolean }>(
      `select m.ticket_id, t.source_key = m.source_key as first
         from ticket_messages m join tickets t on t.id = m.ticket_id where m.source_key = $1`,
      [sourceKey],
    );
    let thread: TicketRow | undefined;
    if (seen.rows[0] && !seen.rows[0].first) thread = await lockTicket(db, seen.rows[0].ticket_id);
    else if (!seen.rows[0]) {
      const r = await findThread(db, m, o);
      if (r.action === 'append') thread = await lockTicket(db, r.ticketId);
    }
    // Closed is final: a human writing again starts a new ticket (as helpdesks do).
    if (thread?.status === 'closed' && !m.automated.automated) thread = undefined;
    if (!thread) {
      if (m.automated.automated) return []; // bounces, auto-replies, lists open no ticket
      return createTicket(db, m, o, sourceKey, messageRowId);
    }
    return appendToThread(db, thread, m, o, sourceKey, messageRowId);
  });
}

async function createTicket(
  db: Db,
  m: EmailReceived,
  o: EmailOptions,
  sourceKey: string,
  messageRowId: string,
): Promise<Envelope[]> {
  const id = deterministicId('ticket', sourceKey);
  const body = m.replyText || m.text || '(empty message)';
  const note = m.oversized
    ? `\n\n[mailroom] This message was ${m.oversized.size} bytes, above the ${m.oversized.limit}-byte limit: ` +
      `the text is truncated; the full message is stored as blob ${m.rawBlobId ?? '(unknown)'}.`
    : '';
  const { row } = await insertTicket(db, {
    id,
    sourceKey,
    title: m.subject.trim() || '(no subject)',
    description: body + note,
    requester: m.from,
    channel: 'email',
    hints: {},
    attachments: m.attachments,
    messageId: m.messageId,
    priority: null,
    createdAt: new Date().toISOString(),
  });
  await db.query(
    'insert into ticket_thread_index (message_id, ticket_id) values ($1, $2) on conflict do nothing',
    [m.messageId, row.id],
  );
  await addParticipants(db, row.id, m, o);
  await insertMessage(db, row.id, m, sourceKey, messageRowId, 'requester');
  return [
    factEvent('ticket.created', row.id, deterministicId('event', row.id, 'created'), {
      number: row.number,
      title: row.title,
      description: row.description,
      requester: requesterOf(row),
      channel: 'email',
      status: row.status,
      attachments: m.attachments,
      messageId: m.messageId,
      automated: false,
      createdAt: row.created_at.toISOString(),
      receivedAt: m.receivedAt,
    }),
  ];
}

async function appendToThread(
  db: Db,
  thread: TicketRow,
  m: EmailReceived,
  o: EmailOptions,
  sourceKey: string,
  messageRowId: string,
): Promise<Envelope[]> {
  const sender = m.from.email.toLowerCase();
  const role =
    thread.requester_email === sender
      ? 'requester'
      : matchesAddress(sender, o.agents)
        ? 'agent'
        : 'cc';
  await insertMessage(db, thread.id, m, sourceKey, messageRowId, role);
  await db.query(
    'insert into ticket_thread_index (message_id, ticket_id) values ($1, $2) on conflict do nothing',
    [m.messageId, thread.id],
  );
  if (!m.automated.automated) await addParticipants(db, thread.id, m, o);
  const events: Envelope[] = [
    factEvent('ticket.message_added', thread.id, deterministicId('event', messageRowId, 'added'), {
      messageRowId,
      author: m.from,
      role,
      text: m.replyText,
      ...(m.automated.kind ? { automatedKind: m.automated.kind } : {}),
      channel: 'email',
    }),
  ];
  const command = m.automated.automated ? null : parseStatusCommand(m.replyText);
  if (command) {
    events.push(...(await applyStatusCommand(db, thread, m, o, command.status, messageRowId)));
    return events;
  }
  // A human reply reopens a resolved ticket; an out-of-office reply does not.
  if (thread.status === 'resolved' && !m.automated.automated) {
    events.push(
      await changeStatus(db, thread, 'pending', {
        eventId: deterministicId('event', messageRowId, 'reopen'),
        actor: { type: role === 'agent' ? 'agent' : 'requester', id: sender },
        reason: 'reply by email',
      }),
    );
  }
  return events;
}

/** `#status resolved`, `#close`, `#reopen` at the top of a reply: authorized, applied once, recorded. */
async function applyStatusCommand(
  db: Db,
  ticket: TicketRow,
  m: EmailReceived,
  o: EmailOptions,
  requested: string,
  messageRowId: string,
): Promise<Envelope[]> {
  const commandId = deterministicId('email-command', messageRowId);
  const done = await db.query<{ events: Envelope[] }>(
    'select events from ticket_commands where command_id = $1',
    [commandId],
  );
  if (done.rows[0]) return done.rows[0].events;
  const sender = m.from.email.toLowerCase();
  // The mail vocabulary has `open` (reopen) where tickets say `pending`.
  const target = (requested === 'open' ? 'pending' : requested) as TicketStatus;
  const auth = authorizeStatusCommand({
    sender,
    requester: ticket.requester_email,
    agents: o.agents,
    status: requested as Parameters<typeof authorizeStatusCommand>[0]['status'],
    auth: { authenticationResults: m.authenticationResults ?? [] },
    requireAuth: o.requireMailAuth,
  });
  const isAgent = matchesAddress(sender, o.agents);
  const record = async (events: Envelope[], code: string | null, reason: string) => {
    await db.query(
      `insert into ticket_commands (command_id, ticket_id, kind, outcome, code, reason, actor_id, events)
       values ($1, $2, 'email_status', $3, $4, $5, $6, $7)`,
      [
        commandId,
        ticket.id,
        code ? 'rejected' : 'applied',
        code,
        reason,
        sender,
        JSON.stringify(events),
      ],
    );
    return events;
  };
  const reject = (code: string, reason: string) =>
    record(
      [
        factEvent(
          'ticket.command_rejected',
          ticket.id,
          deterministicId('event', commandId, 'rejected'),
          {
            commandId,
            code,
            reason: `${reason} (from ${sender}, by email)`,
          },
        ),
      ],
      code,
      reason,
    );
  if (!auth.allowed) return reject('NOT_AUTHORIZED', auth.reason);
  if (!['pending', 'in_progress', 'resolved', 'closed'].includes(target))
    return reject('UNKNOWN_STATUS', `status ${requested} does not exist here`);
  if (target === ticket.status) return record([], null, `already ${target}`);
  if (!canTransition(ticket.status, target))
    return reject('INVALID_TRANSITION', `cannot change status from ${ticket.status} to ${target}`);
  const event = await changeStatus(db, ticket, target, {
    eventId: deterministicId('event', commandId, 'status'),
    actor: { type: isAgent ? 'agent' : 'requester', id: sender },
    reason: `#${requested === 'open' ? 'reopen' : `status ${requested}`} by email (${auth.reason})`,
  });
  return record([event], null, auth.reason);
}

async function changeStatus(
  db: Db,
  t: TicketRow,
  to: TicketStatus,
  c: { eventId: string; actor: { type: 'agent' | 'requester'; id: string }; reason: string },
): Promise<Envelope> {
  const now = new Date().toISOString();
  await db.query(
    `update tickets set status = $2,
       resolved_at = case when $2 = 'resolved' then $3::timestamptz when $2 in ('pending', 'in_progress') then null else resolved_at end,
       closed_at = case when $2 = 'closed' then $3::timestamptz else closed_at end,
       updated_at = greatest($3::timestamptz, created_at)
     where id = $1`,
    [t.id, to, now],
  );
  await db.query(
    `insert into ticket_status_history (event_id, ticket_id, from_status, to_status, actor_type, actor_id, reason, at)
     values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing`,
    [c.eventId, t.id, t.status, to, c.actor.type, c.actor.id, c.reason, now],
  );
  return factEvent(
    'ticket.status_changed',
    t.id,
    c.eventId,
    {
      from: t.status,
      to,
      actor: c.actor,
      reason: c.reason,
      number: t.number,
      requester: requesterOf(t),
      title: t.title,
    },
    now,
  );
}

async function insertMessage(
  db: Db,
  ticketId: string,
  m: EmailReceived,
  sourceKey: string,
  id: string,
  role: 'requester' | 'cc' | 'agent',
): Promise<void> {
  await db.query(
    // clock_timestamp(), not the transaction's now(): mails of one chunk keep their order.
    `insert into ticket_messages (id, ticket_id, source_key, direction, author_email, author_name, author_role,
       subject, body_text, reply_text, message_id, automated_kind, raw_blob_id, created_at)
     values ($1, $2, $3, 'inbound', $4, $5, $6, $7, $8, $9, $10, $11, $12, clock_timestamp())
     on conflict (source_key) do nothing`,
    [
      id,
      ticketId,
      sourceKey,
      m.from.email,
      m.from.name ?? null,
      role,
      m.subject,
      m.text,
      m.replyText,
      m.messageId,
      m.automated.kind,
      m.rawBlobId ?? null,
    ],
  );
}

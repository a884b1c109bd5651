import type pg from 'pg';
import { withTransaction } from '@mailroom/db';
import { deterministicId, type EmailReceived, type Envelope } from '@mailroom/events';
import { insertTicket, lockTicket, requesterOf, type TicketRow } from './tickets-repo.js';
import { factEvent } from './emit.js';

/**
 * Finds the ticket a mail belongs to by its headers: In-Reply-To/References against the
 * stored Message-IDs, then the [#number] subject tag. Only the requester or someone who
 * already wrote on the ticket can attach to it (no hijacking by a stranger who copies a
 * subject tag); anyone else opens a new ticket.
 */
async function findThread(db: pg.ClientBase, m: EmailReceived): Promise<TicketRow | undefined> {
  const ids = [m.inReplyTo, ...m.references].filter((x): x is string => Boolean(x));
  let candidate: string | undefined;
  if (ids.length > 0) {
    const { rows } = await db.query<{ ticket_id: string }>(
      'select ticket_id from ticket_thread_index where message_id = any($1) limit 1',
      [ids],
    );
    candidate = rows[0]?.ticket_id;
  }
  if (!candidate && m.threadHints.subjectTicketNumber) {
    const { rows } = await db.query<{ id: string }>('select id from tickets where number = $1', [
      m.threadHints.subjectTicketNumber,
    ]);
    candidate = rows[0]?.id;
  }
  if (!candidate) return undefined;
  const sender = m.from.email.toLowerCase();
  const { rows } = await db.query<{ ok: boolean }>(
    `select exists (select 1 from tickets where id = $1 and requester_email = $2)
         or exists (select 1 from ticket_messages where ticket_id = $1 and lower(author_email) = $2) as ok`,
    [candidate, sender],
  );
  return rows[0]?.ok ? lockTicket(db, candidate) : undefined;
}

/** tickets.raw `raw.email_received` → a new ticket, or a message on its thread. */
export async function handleEmail(pool: pg.Pool, m: EmailReceived): Promise<Envelope[]> {
  const sourceKey = `email:${m.mailbox.toLowerCase()}:${m.messageId}`;
  const messageRowId = deterministicId('message', sourceKey);
  return withTransaction(pool, async (db) => {
    const thread = await findThread(db, m);
    if (!thread) {
      if (m.automated.automated) return []; // an unthreaded bounce/auto-reply opens no ticket
      const id = deterministicId('ticket', sourceKey);
      const { row } = await insertTicket(db, {
        id,
        sourceKey,
        title: m.subject.trim() || '(no subject)',
        description: m.replyText || m.text || '(empty message)',
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
    const role = thread.requester_email === m.from.email.toLowerCase() ? 'requester' : 'cc';
    await insertMessage(db, thread.id, m, sourceKey, messageRowId, role);
    await db.query(
      'insert into ticket_thread_index (message_id, ticket_id) values ($1, $2) on conflict do nothing',
      [m.messageId, thread.id],
    );
    const events: Envelope[] = [
      factEvent(
        'ticket.message_added',
        thread.id,
        deterministicId('event', messageRowId, 'added'),
        {
          messageRowId,
          author: m.from,
          role,
          text: m.replyText,
          ...(m.automated.kind ? { automatedKind: m.automated.kind } : {}),
          channel: 'email',
        },
      ),
    ];
    // A human reply reopens a resolved ticket; an out-of-office reply does not.
    if (thread.status === 'resolved' && !m.automated.automated) {
      const eventId = deterministicId('event', messageRowId, 'reopen');
      await db.query(
        `update tickets set status = 'pending', resolved_at = null, updated_at = now() where id = $1`,
        [thread.id],
      );
      await db.query(
        `insert into ticket_status_history (event_id, ticket_id, from_status, to_status, actor_type, actor_id, reason)
         values ($1, $2, 'resolved', 'pending', 'requester', $3, 'reply by email') on conflict do nothing`,
        [eventId, thread.id, m.from.email],
      );
      events.push(
        factEvent('ticket.status_changed', thread.id, eventId, {
          from: 'resolved',
          to: 'pending',
          actor: { type: 'requester', id: m.from.email },
          reason: 'reply by email',
          number: thread.number,
          requester: requesterOf(thread),
          title: thread.title,
        }),
      );
    }
    return events;
  });
}

async function insertMessage(
  db: pg.ClientBase,
  ticketId: string,
  m: EmailReceived,
  sourceKey: string,
  id: string,
  role: 'requester' | 'cc',
): Promise<void> {
  await db.query(
    `insert into ticket_messages (id, ticket_id, source_key, direction, author_email, author_name, author_role,
       subject, body_text, reply_text, message_id, automated_kind, raw_blob_id)
     values ($1, $2, $3, 'inbound', $4, $5, $6, $7, $8, $9, $10, $11, $12) on conflict (source_key) do nothing`,
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

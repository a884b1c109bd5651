import type pg from 'pg';
import { withTransaction } from '@mailroom/db';
import { deterministicId, type ApiSubmission, type Envelope } from '@mailroom/events';
import { insertTicket, requesterOf } from './tickets-repo.js';
import { factEvent } from './emit.js';

/** The ticket id of an API submission: intake-api derives the same one for its 202. */
export const ticketIdOfSubmission = (submissionId: string) =>
  deterministicId('ticket', `api:${submissionId}`);

/** tickets.raw `raw.api_submission` → one ticket (once), its first message, ticket.created. */
export async function handleSubmission(pool: pg.Pool, s: ApiSubmission): Promise<Envelope[]> {
  return withTransaction(pool, (db) => applySubmission(db, s));
}

/** The same, inside the caller's transaction (the batch path applies many in one). */
export async function applySubmission(db: pg.ClientBase, s: ApiSubmission): Promise<Envelope[]> {
  const id = ticketIdOfSubmission(s.submissionId);
  const sourceKey = `api:${s.submissionId}`;
  const now = new Date().toISOString();
  const row = await (async () => {
    const { row, created } = await insertTicket(db, {
      id,
      sourceKey,
      title: s.title,
      description: s.description,
      requester: s.requester,
      channel: 'api',
      hints: { ...s.hints },
      attachments: s.attachments ?? [],
      messageId: null,
      priority: s.hints?.priority ?? null,
      createdAt: now,
    });
    if (created) {
      await db.query(
        `insert into ticket_messages (id, ticket_id, source_key, direction, author_email, author_name,
           author_role, subject, body_text, reply_text, created_at)
         values ($1, $2, $3, 'inbound', $4, $5, 'requester', $6, $7, $7, $8) on conflict (source_key) do nothing`,
        [
          deterministicId('message', sourceKey),
          id,
          sourceKey,
          row.requester_email,
          row.requester_name,
          s.title,
          s.description,
          now,
        ],
      );
    }
    return row;
  })();
  return [
    factEvent('ticket.created', row.id, deterministicId('event', row.id, 'created'), {
      number: row.number,
      title: row.title,
      description: row.description,
      requester: requesterOf(row),
      channel: 'api',
      status: row.status,
      ...(s.hints ? { hints: s.hints } : {}),
      attachments: s.attachments ?? [],
      createdAt: row.created_at.toISOString(),
      receivedAt: s.receivedAt,
    }),
  ];
}

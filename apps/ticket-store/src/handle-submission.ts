import type pg from 'pg';
import { withTransaction } from '@mailroom/db';
import { deterministicId, type ApiSubmission, type Envelope } from '@mailroom/events';
import { TICKET_COLUMNS, requesterOf, type TicketRow } from './tickets-repo.js';
import { factEvent } from './emit.js';

/** The ticket id of an API submission: intake-api derives the same one for its 202. */
export const ticketIdOfSubmission = (submissionId: string) =>
  deterministicId('ticket', `api:${submissionId}`);

const sourceKeyOf = (s: ApiSubmission) => `api:${s.submissionId}`;

/** tickets.raw `raw.api_submission` → one ticket (once), its first message, ticket.created. */
export async function handleSubmission(pool: pg.Pool, s: ApiSubmission): Promise<Envelope[]> {
  return withTransaction(pool, (db) => applySubmissions(db, [s]));
}

type Row = TicketRow & { source_key: string };

// Rows in record order, so ticket numbers (the column default, nextval) follow it too.
const INSERT_TICKETS = `insert into tickets (id, source_key, title, description, requester_email,
    requester_name, channel, hints, attachments, priority, created_at, updated_at)
  select u.id, u.source_key, u.title, u.description, u.requester_email, u.requester_name, 'api',
    u.hints, u.attachments, u.priority, $10::timestamptz, $10::timestamptz
  from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[],
    $8::jsonb[], $9::text[]) with ordinality as u(id, source_key, title, description,
    requester_email, requester_name, hints, attachments, priority, ord)
  order by u.ord
  on conflict (source_key) do nothing
  returning ${TICKET_COLUMNS}, source_key`;

/**
 * API submissions inside the caller's transaction, in a fixed number of statements: the
 * new tickets in one insert (a source key already stored, or repeated in the batch,
 * inserts nothing and finds the stored ticket), the stored ones of redelivered records
 * in one select, the first messages in one insert. Returns one ticket.created per
 * submission, in order: a redelivered submission re-emits the same event (same id).
 */
export async function applySubmissions(
  db: pg.ClientBase,
  subs: readonly ApiSubmission[],
): Promise<Envelope[]> {
  if (subs.length === 0) return [];
  const now = new Date().toISOString();
  const unique = new Map<string, ApiSubmission>();
  for (const s of subs) if (!unique.has(sourceKeyOf(s))) unique.set(sourceKeyOf(s), s);
  const list = [...unique.values()];
  const inserted = await db.query<Row>({
    name: 'ticket-store-insert-submissions',
    text: INSERT_TICKETS,
    values: [
      list.map((s) => ticketIdOfSubmission(s.submissionId)),
      list.map(sourceKeyOf),
      list.map((s) => s.title),
      list.map((s) => s.description),
      list.map((s) => s.requester.email.toLowerCase()),
      list.map((s) => s.requester.name ?? null),
      list.map((s) => JSON.stringify({ ...s.hints })),
      list.map((s) => JSON.stringify(s.attachments ?? [])),
      list.map((s) => s.hints?.priority ?? null),
      now,
    ],
  });
  const rows = new Map<string, Row>(inserted.rows.map((r) => [r.source_key, r]));
  const created = inserted.rows;
  const stored = [...unique.keys()].filter((k) => !rows.has(k));
  if (stored.length > 0) {
    const found = await db.query<Row>({
      name: 'ticket-store-find-submissions',
      text: `select ${TICKET_COLUMNS}, source_key from tickets where source_key = any($1::text[])`,
      values: [stored],
    });
    for (const r of found.rows) rows.set(r.source_key, r);
  }
  if (created.length > 0) {
    await db.query({
      name: 'ticket-store-insert-first-messages',
      text: `insert into ticket_messages (id, ticket_id, source_key, direction, author_email,
          author_name, author_role, subject, body_text, reply_text, created_at)
        select u.id, u.ticket_id, u.source_key, 'inbound', u.email, u.name, 'requester', u.subject,
          u.body, u.body, $8::timestamptz
        from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
          as u(id, ticket_id, source_key, email, name, subject, body)
        on conflict (source_key) do nothing`,
      values: [
        created.map((r) => deterministicId('message', r.source_key)),
        created.map((r) => r.id),
        created.map((r) => r.source_key),
        created.map((r) => r.requester_email),
        created.map((r) => r.requester_name),
        created.map((r) => r.title),
        created.map((r) => r.description),
        now,
      ],
    });
  }
  return subs.map((s) => {
    const row = rows.get(sourceKeyOf(s));
    if (!row) throw new Error(`ticket with source key ${sourceKeyOf(s)} vanished`);
    return factEvent('ticket.created', row.id, deterministicId('event', row.id, 'created'), {
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
    });
  });
}

import type pg from 'pg';
import type { Person, TicketStatus } from '@mailroom/events';

/** The columns of a ticket the events carry (event-carried state). */
export interface TicketRow {
  id: string;
  number: number;
  title: string;
  description: string;
  requester_email: string;
  requester_name: string | null;
  channel: 'email' | 'api';
  status: TicketStatus;
  priority: string | null;
  category: string | null;
  department: string | null;
  hints: Record<string, string>;
  attachments: unknown[];
  message_id: string | null;
  created_at: Date;
}

export const TICKET_COLUMNS = `id, number::int as number, title, description, requester_email, requester_name,
  channel, status, priority, category, department, hints, attachments, message_id, created_at`;

export const requesterOf = (t: TicketRow): Person =>
  t.requester_name
    ? { email: t.requester_email, name: t.requester_name }
    : { email: t.requester_email };

export async function findTicket(
  db: pg.ClientBase | pg.Pool,
  id: string,
): Promise<TicketRow | undefined> {
  const { rows } = await db.query<TicketRow>(
    `select ${TICKET_COLUMNS} from tickets where id = $1`,
    [id],
  );
  return rows[0];
}

export async function lockTicket(db: pg.ClientBase, id: string): Promise<TicketRow | undefined> {
  const { rows } = await db.query<TicketRow>(
    `select ${TICKET_COLUMNS} from tickets where id = $1 for update`,
    [id],
  );
  return rows[0];
}

export interface NewTicket {
  id: string;
  sourceKey: string;
  title: string;
  description: string;
  requester: Person;
  channel: 'email' | 'api';
  hints: Record<string, string>;
  attachments: unknown[];
  messageId: string | null;
  priority: string | null;
  createdAt: string;
}

/** Inserts once per source key; a redelivered record gets the existing row back. */
export async function insertTicket(
  db: pg.ClientBase,
  t: NewTicket,
): Promise<{ row: TicketRow; created: boolean }> {
  const inserted = await db.query<TicketRow>(
    `insert into tickets (id, source_key, title, description, requester_email, requester_name, channel,
       hints, attachments, message_id, priority, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
     on conflict (source_key) do nothing
     returning ${TICKET_COLUMNS}`,
    [
      t.id,
      t.sourceKey,
      t.title,
      t.description,
      t.requester.email.toLowerCase(),
      t.requester.name ?? null,
      t.channel,
      JSON.stringify(t.hints),
      JSON.stringify(t.attachments),
      t.messageId,
      t.priority,
      t.createdAt,
    ],
  );
  if (inserted.rows[0]) return { row: inserted.rows[0], created: true };
  const { rows } = await db.query<TicketRow>(
    `select ${TICKET_COLUMNS} from tickets where source_key = $1`,
    [t.sourceKey],
  );
  if (!rows[0]) throw new Error(`ticket with source key ${t.sourceKey} vanished`);
  return { row: rows[0], created: false };
}

import type pg from 'pg';
import type { Priority, TicketStatus } from '@mailroom/events';
import { decodeCursor, encodeCursor } from './cursor.js';
import { routingHistory } from './routing-queries.js';
import type { Sort, TicketDetail, TicketListQuery, TicketSummary } from './schemas.js';

// Read side of the tickets tables (ticket-store is their only writer). Every value
// reaches SQL as a parameter; filters compose into one WHERE clause.

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

const SUMMARY_COLUMNS = `t.id, t.number, t.title, t.status, t.priority, t.category, t.department,
  t.assignee, t.requester_email, t.requester_name, t.channel, t.needs_review, t.created_at,
  t.updated_at, t.routed_at, t.categorization->>'method' AS categorization_method,
  (t.categorization->>'confidence')::float8 AS confidence`;

// critical first; tickets without a priority (not yet categorized) last.
const RANK = `(CASE t.priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2
  WHEN 'low' THEN 3 ELSE 4 END)`;
const CURSOR_TS = `to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

interface SummaryRow {
  id: string;
  number: string;
  title: string;
  status: TicketStatus;
  priority: Priority | null;
  category: string | null;
  department: string | null;
  assignee: string | null;
  requester_email: string;
  requester_name: string | null;
  channel: 'email' | 'api';
  needs_review: boolean;
  created_at: Date;
  updated_at: Date;
  routed_at: Date | null;
  categorization_method: string | null;
  confidence: number | null;
}

function toSummary(r: SummaryRow): TicketSummary {
  return {
    id: r.id,
    number: Number(r.number),
    title: r.title,
    status: r.status,
    priority: r.priority,
    category: r.category,
    department: r.department,
    assignee: r.assignee,
    requester: { email: r.requester_email, name: r.requester_name },
    channel: r.channel,
    needsReview: r.needs_review,
    categorizationMethod: r.categorization_method,
    confidence: r.confidence,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    routedAt: iso(r.routed_at),
  };
}

export interface TicketPage {
  items: TicketSummary[];
  nextCursor: string | null;
}

const ORDER: Record<Sort, string> = {
  created_at_desc: 't.created_at DESC, t.id DESC',
  created_at_asc: 't.created_at ASC, t.id ASC',
  priority: `${RANK} ASC, t.created_at DESC, t.id DESC`,
};

/** One page of tickets matching every given filter, keyset-paginated. */
export async function listTickets(pool: pg.Pool, q: TicketListQuery): Promise<TicketPage> {
  const sort = q.sort ?? 'created_at_desc';
  const limit = q.limit ?? 20;
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (q.status?.length) where.push(`t.status = ANY(${p(q.status)}::text[])`);
  if (q.department?.length) where.push(`t.department = ANY(${p(q.department)}::text[])`);
  if (q.category?.length) where.push(`t.category = ANY(${p(q.category)}::text[])`);
  if (q.priority?.length) where.push(`t.priority = ANY(${p(q.priority)}::text[])`);
  if (q.requester) where.push(`t.requester_email = ${p(q.requester)}`);
  if (q.search) where.push(`t.search @@ websearch_to_tsquery('simple', ${p(q.search)})`);
  if (q.created_from) where.push(`t.created_at >= ${p(q.created_from)}::timestamptz`);
  if (q.created_to) where.push(`t.created_at < ${p(q.created_to)}::timestamptz`);
  if (q.cursor) {
    const c = decodeCursor(q.cursor, sort);
    const key = `(${p(c.createdAt)}::timestamptz, ${p(c.id)}::uuid)`;
    if (sort === 'created_at_asc') where.push(`(t.created_at, t.id) > ${key}`);
    else if (sort === 'created_at_desc') where.push(`(t.created_at, t.id) < ${key}`);
    else {
      const rank = p(c.rank ?? 4);
      where.push(`(${RANK} > ${rank} OR (${RANK} = ${rank} AND (t.created_at, t.id) < ${key}))`);
    }
  }
  const sql = `SELECT ${SUMMARY_COLUMNS}, ${CURSOR_TS} AS cursor_ts, ${RANK} AS rank
    FROM tickets t ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${ORDER[sort]} LIMIT ${p(limit + 1)}`;
  const { rows } = await pool.query<SummaryRow & { cursor_ts: string; rank: number }>(sql, params);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toSummary),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({ sort, createdAt: last.cursor_ts, id: last.id, rank: last.rank })
        : null,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TicketRef {
  id: string;
  number: number;
  status: TicketStatus;
  department: string | null;
}

/** The ticket with this uuid or human number, or undefined. */
export async function findTicket(
  pool: pg.Pool,
  idOrNumber: string,
): Promise<TicketRef | undefined> {
  let column: string;
  if (UUID.test(idOrNumber)) column = 'id';
  else if (/^[1-9][0-9]{0,17}$/.test(idOrNumber)) column = 'number';
  else return undefined;
  const { rows } = await pool.query<{
    id: string;
    number: string;
    status: TicketStatus;
    department: string | null;
  }>(`SELECT id, number, status, department FROM tickets WHERE ${column} = $1`, [idOrNumber]);
  const r = rows[0];
  return r
    ? { id: r.id, number: Number(r.number), status: r.status, department: r.department }
    : undefined;
}

/** Whether the ticket has been routed yet (?wait=routed polls this). */
export async function isRouted(pool: pg.Pool, id: string): Promise<boolean> {
  const { rows } = await pool.query(
    'SELECT 1 FROM tickets WHERE id = $1 AND routed_at IS NOT NULL',
    [id],
  );
  return rows.length > 0;
}

/** A ticket with its messages, status history and routing history. */
export async function getTicketDetail(
  pool: pg.Pool,
  id: string,
): Promise<TicketDetail | undefined> {
  const [ticket, messages, history, routing] = await Promise.all([
    pool.query<
      SummaryRow & {
        description: string;
        hints: TicketDetail['hints'];
        attachments: TicketDetail['attachments'];
        categorization: Record<string, unknown> | null;
        categorized_at: Date | null;
        acknowledged_at: Date | null;
        resolved_at: Date | null;
        closed_at: Date | null;
      }
    >(
      `SELECT ${SUMMARY_COLUMNS}, t.description, t.hints, t.attachments, t.categorization,
         t.categorized_at, t.acknowledged_at, t.resolved_at, t.closed_at
       FROM tickets t WHERE t.id = $1`,
      [id],
    ),
    pool.query<{
      id: string;
      direction: string;
      author_email: string;
      author_name: string | null;
      author_role: string;
      subject: string | null;
      body_text: string;
      reply_text: string;
      message_id: string | null;
      automated_kind: string | null;
      created_at: Date;
    }>('SELECT * FROM ticket_messages WHERE ticket_id = $1 ORDER BY created_at, id', [id]),
    pool.query<{
      event_id: string;
      from_status: string;
      to_status: string;
      actor_type: string;
      actor_id: string;
      reason: string | null;
      at: Date;
    }>('SELECT * FROM ticket_status_history WHERE ticket_id = $1 ORDER BY at, event_id', [id]),
    routingHistory(pool, id),
  ]);
  const t = ticket.rows[0];
  if (!t) return undefined;
  return {
    ...toSummary(t),
    description: t.description,
    hints: t.hints,
    attachments: t.attachments,
    categorization: t.categorization,
    categorizedAt: iso(t.categorized_at),
    acknowledgedAt: iso(t.acknowledged_at),
    resolvedAt: iso(t.resolved_at),
    closedAt: iso(t.closed_at),
    messages: messages.rows.map((m) => ({
      id: m.id,
      direction: m.direction,
      author: { email: m.author_email, name: m.author_name },
      role: m.author_role,
      subject: m.subject,
      text: m.body_text,
      replyText: m.reply_text,
      messageId: m.message_id,
      automatedKind: m.automated_kind,
      createdAt: m.created_at.toISOString(),
    })),
    statusHistory: history.rows.map((h) => ({
      eventId: h.event_id,
      from: h.from_status,
      to: h.to_status,
      actor: { type: h.actor_type, id: h.actor_id },
      reason: h.reason,
      at: h.at.toISOString(),
    })),
    routingHistory: routing,
  };
}

import type pg from 'pg';
import type { Envelope } from '@mailroom/events';

/**
 * Keeps the tickets table current with what the other apps decided (categorized,
 * routed, rerouted, acknowledged). Each update is idempotent: applying an event twice
 * leaves the same row.
 */
export async function applyLifecycle(pool: pg.Pool | pg.ClientBase, e: Envelope): Promise<void> {
  if (!e.ticketId) return;
  switch (e.type) {
    case 'ticket.categorized': {
      const p = e.payload as Envelope<'ticket.categorized'>['payload'];
      await pool.query(
        `update tickets set category = $2, priority = coalesce(priority, $3), categorization = $4,
           needs_review = $5, categorized_at = coalesce(categorized_at, $6), updated_at = greatest(updated_at, $6)
         where id = $1`,
        [e.ticketId, p.category, p.priority, JSON.stringify(p), p.needsReview, e.occurredAt],
      );
      return;
    }
    case 'ticket.routed': {
      const p = e.payload as Envelope<'ticket.routed'>['payload'];
      await pool.query(
        `update tickets set department = case when routed_at is null then $2 else department end,
           priority = case when routed_at is null then $3 else priority end,
           routed_at = coalesce(routed_at, $4), updated_at = greatest(updated_at, $4)
         where id = $1`,
        [e.ticketId, p.department, p.priority, e.occurredAt],
      );
      return;
    }
    case 'ticket.rerouted': {
      const p = e.payload as Envelope<'ticket.rerouted'>['payload'];
      await pool.query(
        `update tickets set department = $2, routed_at = coalesce(routed_at, $3), updated_at = greatest(updated_at, $3)
         where id = $1`,
        [e.ticketId, p.to, e.occurredAt],
      );
      return;
    }
    case 'ticket.acknowledged': {
      const p = e.payload as Envelope<'ticket.acknowledged'>['payload'];
      await pool.query(
        `update tickets set acknowledged_at = coalesce(acknowledged_at, $2) where id = $1`,
        [e.ticketId, p.sentAt],
      );
      // Only for a ticket this store holds: an event about an unknown ticket (another
      // deployment's, a test's) must not fail on the foreign key and be dead-lettered.
      await pool.query(
        `insert into ticket_thread_index (message_id, ticket_id)
         select $1, $2 where exists (select 1 from tickets where id = $2) on conflict do nothing`,
        [p.messageId, e.ticketId],
      );
      return;
    }
    default:
      // Events this app emits itself, or that change nothing it owns.
      return;
  }
}

type Lifecycle = 'ticket.categorized' | 'ticket.routed' | 'ticket.rerouted';
type Columns = (events: Envelope[]) => unknown[][];

/**
 * The set-based twins of the updates above: one statement for the events of one type,
 * with the same SET expressions (coalesce keeps the first, greatest the latest).
 */
const BATCH: Record<Lifecycle, { sql: string; columns: Columns }> = {
  'ticket.categorized': {
    sql: `update tickets t set category = u.category, priority = coalesce(t.priority, u.priority),
        categorization = u.categorization, needs_review = u.needs_review,
        categorized_at = coalesce(t.categorized_at, u.at), updated_at = greatest(t.updated_at, u.at)
      from unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::bool[], $6::timestamptz[])
        as u(id, category, priority, categorization, needs_review, at)
      where t.id = u.id`,
    columns: (es) => {
      const ps = es.map((e) => e.payload as Envelope<'ticket.categorized'>['payload']);
      return [
        es.map((e) => e.ticketId),
        ps.map((p) => p.category),
        ps.map((p) => p.priority),
        ps.map((p) => JSON.stringify(p)),
        ps.map((p) => p.needsReview),
        es.map((e) => e.occurredAt),
      ];
    },
  },
  'ticket.routed': {
    sql: `update tickets t set department = case when t.routed_at is null then u.department else t.department end,
        priority = case when t.routed_at is null then u.priority else t.priority end,
        routed_at = coalesce(t.routed_at, u.at), updated_at = greatest(t.updated_at, u.at)
      from unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) as u(id, department, priority, at)
      where t.id = u.id`,
    columns: (es) => {
      const ps = es.map((e) => e.payload as Envelope<'ticket.routed'>['payload']);
      return [
        es.map((e) => e.ticketId),
        ps.map((p) => p.department),
        ps.map((p) => p.priority),
        es.map((e) => e.occurredAt),
      ];
    },
  },
  'ticket.rerouted': {
    sql: `update tickets t set department = u.department, routed_at = coalesce(t.routed_at, u.at),
        updated_at = greatest(t.updated_at, u.at)
      from unnest($1::uuid[], $2::text[], $3::timestamptz[]) as u(id, department, at)
      where t.id = u.id`,
    columns: (es) => [
      es.map((e) => e.ticketId),
      es.map((e) => (e.payload as Envelope<'ticket.rerouted'>['payload']).to),
      es.map((e) => e.occurredAt),
    ],
  },
};
const isBatched = (type: string): type is Lifecycle => type in BATCH;

/**
 * Applies the lifecycle events of a chunk with a few statements instead of one per event,
 * leaving the rows applyLifecycle leaves event by event. Order matters only within a
 * ticket (categorized and routed both set the priority, routed and rerouted the
 * department), so the events go in rounds: round k holds the k-th categorized / routed /
 * rerouted event of every ticket, one statement per type and round. A ticket occurs once
 * per round, so the statements of a round touch different rows and their order does not
 * matter. Acknowledgements touch nothing else: the first one per ticket is kept, all in
 * one update and one threading-index insert.
 */
export async function applyLifecycleBatch(
  db: pg.ClientBase,
  events: readonly Envelope[],
): Promise<void> {
  const rounds: Envelope[][] = [];
  const seen = new Map<string, number>();
  const acks = new Map<string, Envelope<'ticket.acknowledged'>['payload']>();
  const ackMessages: { messageId: string; ticketId: string }[] = [];
  for (const e of events) {
    if (!e.ticketId) continue;
    const ticket = e.ticketId.toLowerCase();
    if (e.type === 'ticket.acknowledged') {
      const p = e.payload as Envelope<'ticket.acknowledged'>['payload'];
      if (!acks.has(ticket)) acks.set(ticket, p);
      ackMessages.push({ messageId: p.messageId, ticketId: e.ticketId });
    } else if (isBatched(e.type)) {
      const k = seen.get(ticket) ?? 0;
      seen.set(ticket, k + 1);
      (rounds[k] ??= []).push(e);
    }
  }
  for (const round of rounds) {
    for (const [type, { sql, columns }] of Object.entries(BATCH)) {
      const of = round.filter((e) => e.type === type);
      if (of.length === 0) continue;
      // By ticket id: concurrent transactions (a rebalance) lock rows in one order.
      of.sort((a, b) => (a.ticketId! < b.ticketId! ? -1 : a.ticketId! > b.ticketId! ? 1 : 0));
      await db.query({ name: `ticket-store-batch-${type}`, text: sql, values: columns(of) });
    }
  }
  if (acks.size > 0) {
    const sorted = [...acks.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    await db.query({
      name: 'ticket-store-batch-acknowledged',
      text: `update tickets t set acknowledged_at = coalesce(t.acknowledged_at, u.sent_at)
        from unnest($1::uuid[], $2::timestamptz[]) as u(id, sent_at) where t.id = u.id`,
      values: [sorted.map(([id]) => id), sorted.map(([, p]) => p.sentAt)],
    });
    // As applyLifecycle: only for tickets this store holds; the first one per Message-ID wins.
    // "First" by the events' order, chosen here: a plan that joins the rows with tickets
    // by hash inserts them in any order, and ON CONFLICT keeps whichever came first.
    await db.query({
      name: 'ticket-store-batch-thread-index',
      text: `insert into ticket_thread_index (message_id, ticket_id)
        select distinct on (u.message_id) u.message_id, u.ticket_id
        from unnest($1::text[], $2::uuid[]) with ordinality as u(message_id, ticket_id, ord)
        where exists (select 1 from tickets where id = u.ticket_id)
        order by u.message_id, u.ord
        on conflict do nothing`,
      values: [ackMessages.map((m) => m.messageId), ackMessages.map((m) => m.ticketId)],
    });
  }
}

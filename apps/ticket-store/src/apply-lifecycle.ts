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

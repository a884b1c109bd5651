import type { TicketStatus } from './common.js';

/**
 * Allowed status changes. A reply reopens a resolved ticket (→ pending); closed is
 * final (a reply to a closed ticket opens a new one, as helpdesks do).
 */
export const TRANSITIONS: Record<TicketStatus, readonly TicketStatus[]> = {
  pending: ['in_progress', 'resolved', 'closed'],
  in_progress: ['pending', 'resolved', 'closed'],
  resolved: ['pending', 'in_progress', 'closed'],
  closed: [],
};

export function canTransition(from: TicketStatus, to: TicketStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

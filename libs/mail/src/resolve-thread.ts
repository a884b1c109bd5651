import { matchesAddress, stripPlusTag } from './addresses.js';
import { verifyReplyToken } from './reply-token.js';
import type { ThreadHints } from './thread-hints.js';

/** What the ticket store knows about a candidate ticket. */
export interface TicketParticipants {
  ticketId: string;
  requester: string;
  cc?: readonly string[];
}

/** Look-ups the caller backs with its store; kept synchronous-free so this stays pure. */
export interface ThreadLookup {
  secret: string | readonly string[];
  /** Agents: full addresses or `@domain`. */
  agents: readonly string[];
  byTicketId(ticketId: string): TicketParticipants | null;
  byTicketNumber(ticketNumber: number): TicketParticipants | null;
  /** The ticket owning any of these Message-IDs (newest reference first is tried first). */
  byMessageId(messageId: string): TicketParticipants | null;
}

export type ThreadRule = 'reply_token' | 'subject_tag' | 'references';

export type ThreadResolution =
  | { action: 'append'; ticketId: string; rule: ThreadRule; reason: string }
  | { action: 'new_ticket'; rule: ThreadRule | null; reason: string };

/**
 * Decides which ticket a message belongs to. A verified reply token is proof we
 * issued the address, so it wins. A subject tag or header match is only a claim
 * anyone can copy, so it is honoured only for the requester, a CC'd party or an
 * agent; anyone else starts a new ticket instead of hijacking someone else's.
 */
export function resolveThread(
  hints: ThreadHints,
  lookup: ThreadLookup,
  sender: string,
): ThreadResolution {
  const from = stripPlusTag(sender.trim().toLowerCase());
  let rejected: { rule: ThreadRule; reason: string } | null = null;

  if (hints.replyToken) {
    const v = verifyReplyToken(hints.replyToken, lookup.secret);
    const ticket = v.ok ? lookup.byTicketId(v.ticketId) : null;
    if (ticket)
      return {
        action: 'append',
        ticketId: ticket.ticketId,
        rule: 'reply_token',
        reason: 'verified reply token',
      };
    rejected = {
      rule: 'reply_token',
      reason: v.ok ? 'reply token for an unknown ticket' : `reply token ${v.reason}`,
    };
  }

  const participant = (t: TicketParticipants): boolean =>
    stripPlusTag(t.requester.toLowerCase()) === from ||
    (t.cc ?? []).some((c) => stripPlusTag(c.toLowerCase()) === from) ||
    matchesAddress(from, lookup.agents);

  if (hints.subjectTicketNumber !== null) {
    const ticket = lookup.byTicketNumber(hints.subjectTicketNumber);
    if (ticket && participant(ticket)) {
      return {
        action: 'append',
        ticketId: ticket.ticketId,
        rule: 'subject_tag',
        reason: `subject tag [#${hints.subjectTicketNumber}]`,
      };
    }
    rejected ??= {
      rule: 'subject_tag',
      reason: ticket
        ? `sender ${from} is not a participant of [#${hints.subjectTicketNumber}]`
        : 'subject tag for an unknown ticket',
    };
  }

  for (const id of [...hints.references].reverse()) {
    const ticket = lookup.byMessageId(id);
    if (!ticket) continue;
    if (participant(ticket)) {
      return {
        action: 'append',
        ticketId: ticket.ticketId,
        rule: 'references',
        reason: `references ${id}`,
      };
    }
    rejected ??= {
      rule: 'references',
      reason: `sender ${from} is not a participant of the referenced ticket`,
    };
    break;
  }

  return rejected
    ? { action: 'new_ticket', ...rejected }
    : { action: 'new_ticket', rule: null, reason: 'no thread hints matched' };
}

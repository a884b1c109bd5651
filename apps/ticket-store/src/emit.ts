import {
  encodeEvent,
  makeEvent,
  TOPICS,
  type Envelope,
  type EventType,
  type PayloadOf,
} from '@mailroom/events';
import type { MailroomProducer } from '@mailroom/kafka';

export const SOURCE = 'ticket-store';

/**
 * Builds an event whose id is derived from what caused it, so that re-emitting after a
 * crash (effect committed, event not yet acked) gives the same id and consumers dedupe.
 */
export function factEvent<T extends EventType>(
  type: T,
  ticketId: string,
  id: string,
  payload: PayloadOf<T>,
  occurredAt?: string,
): Envelope<T> {
  return makeEvent(type, {
    id,
    ticketId,
    source: SOURCE,
    payload,
    ...(occurredAt ? { occurredAt } : {}),
  });
}

/** Sends events keyed by ticket id (one partition per ticket keeps its events in order). */
export async function emit(
  producer: MailroomProducer,
  events: Envelope[],
  trace?: string,
): Promise<void> {
  if (events.length === 0) return;
  await producer.send(
    TOPICS.events,
    events.map((e) => encodeEvent(e, e.ticketId ?? e.id, trace)),
  );
}

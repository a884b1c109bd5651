import {
  CATALOG,
  decodeEvent,
  deterministicId,
  encodeEvent,
  makeEvent,
  TOPICS,
  type Envelope,
} from '@mailroom/events';
import { permanentError, type ConsumedRecord, type MailroomProducer } from '@mailroom/kafka';
import type { CategorizerMetrics } from './categorizer-metrics.js';
import { toCategorizedPayload } from './decide.js';
import type { Categorizer } from './llm/types.js';
import type { Taxonomy } from './taxonomy.js';

export const SOURCE = 'categorizer';

export interface HandlerDeps {
  categorizer: Categorizer;
  taxonomy: Taxonomy;
  fallbackDepartment: string;
  producer: MailroomProducer;
  metrics: CategorizerMetrics;
}

/**
 * ticket.created → ticket.categorized. Stateless: the event carries the ticket text.
 * Submission hints (department/category/priority) are deliberately not used: the
 * categorizer gives its own opinion and the router decides whether a hint overrides it,
 * so a hint can never hide what the model thought.
 */
export async function categorizeCreated(
  deps: HandlerDeps,
  event: Envelope<'ticket.created'>,
): Promise<Envelope<'ticket.categorized'>> {
  const ticketId = event.ticketId!;
  const started = performance.now();
  const c = await deps.categorizer.categorize({
    ticketId,
    subject: event.payload.title,
    body: event.payload.description,
    requesterEmail: event.payload.requester.email,
  });
  const payload = toCategorizedPayload(deps.taxonomy, c, deps.fallbackDepartment);
  deps.metrics.record(payload, (performance.now() - started) / 1000);
  return makeEvent('ticket.categorized', {
    // Derived from the cause: a redelivered ticket.created gives the same id, and
    // downstream consumers dedupe on it (the answer itself may differ, the id does not).
    id: deterministicId('event', ticketId, 'categorized'),
    ticketId,
    source: SOURCE,
    payload,
    ...(event.correlationId ? { correlationId: event.correlationId } : {}),
  });
}

export function createRecordHandler(deps: HandlerDeps) {
  return async (record: ConsumedRecord): Promise<void> => {
    // Other types are the business of other groups: skip them without parsing.
    const headerType = record.headers['event-type'];
    if (headerType !== undefined && headerType !== 'ticket.created') {
      // A header is untrusted text: only known types become label values.
      deps.metrics.ignored.inc({ type: headerType in CATALOG ? headerType : 'unknown' });
      return;
    }
    // Throws EventValidationError (retriable: false) → dead-lettered at once.
    const event = decodeEvent(record.value);
    if (event.type !== 'ticket.created') {
      deps.metrics.ignored.inc({ type: event.type });
      return;
    }
    if (!event.ticketId) {
      throw permanentError('TICKET_ID_MISSING', 'ticket.created without ticketId');
    }
    const categorized = await categorizeCreated(deps, event as Envelope<'ticket.created'>);
    await deps.producer.send(TOPICS.events, [
      encodeEvent(categorized, categorized.ticketId!, record.headers.traceparent),
    ]);
  };
}

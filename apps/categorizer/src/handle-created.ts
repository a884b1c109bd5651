import {
  CATALOG,
  decodeEvent,
  deterministicId,
  encodeEvent,
  makeEvent,
  TOPICS,
  type Envelope,
} from '@mailroom/events';
import {
  permanentError,
  type BatchHandler,
  type ConsumedRecord,
  type MailroomProducer,
} from '@mailroom/kafka';
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

/** The ticket.created of a record, or the type it was skipped as (other groups' business). */
function select(record: ConsumedRecord): Envelope<'ticket.created'> | { ignored: string } {
  // Other types are the business of other groups: skip them without parsing.
  const headerType = record.headers['event-type'];
  if (headerType !== undefined && headerType !== 'ticket.created') {
    // A header is untrusted text: only known types become label values.
    return { ignored: headerType in CATALOG ? headerType : 'unknown' };
  }
  // Throws EventValidationError (retriable: false) → dead-lettered at once.
  const event = decodeEvent(record.value);
  if (event.type !== 'ticket.created') return { ignored: event.type };
  if (!event.ticketId) {
    throw permanentError('TICKET_ID_MISSING', 'ticket.created without ticketId');
  }
  return event as Envelope<'ticket.created'>;
}

export function createRecordHandler(deps: HandlerDeps) {
  return async (record: ConsumedRecord): Promise<void> => {
    const event = select(record);
    if ('ignored' in event) {
      deps.metrics.ignored.inc({ type: event.ignored });
      return;
    }
    const categorized = await categorizeCreated(deps, event);
    await deps.producer.send(TOPICS.events, [
      encodeEvent(categorized, categorized.ticketId!, record.headers.traceparent),
    ]);
  };
}

/**
 * A chunk of one partition at once: its tickets categorized concurrently (the LLM client
 * bounds its own concurrency; the local model answers inline) and every
 * ticket.categorized in ONE produce request instead of one per ticket. A record that
 * fails validation fails the chunk, which the consumer loop then handles one by one.
 */
export function createBatchHandler(deps: HandlerDeps): BatchHandler {
  return async (records) => {
    const work: { event: Envelope<'ticket.created'>; trace: string | undefined }[] = [];
    const ignored = new Map<string, number>();
    for (const record of records) {
      const event = select(record);
      if ('ignored' in event) ignored.set(event.ignored, (ignored.get(event.ignored) ?? 0) + 1);
      else work.push({ event, trace: record.headers.traceparent });
    }
    const categorized = await Promise.all(work.map((w) => categorizeCreated(deps, w.event)));
    if (categorized.length > 0) {
      await deps.producer.send(
        TOPICS.events,
        categorized.map((c, i) => encodeEvent(c, c.ticketId!, work[i]!.trace)),
      );
    }
    // Counted once the chunk is done: a chunk retried one by one counts its records there.
    for (const [type, n] of ignored) deps.metrics.ignored.inc({ type }, n);
  };
}

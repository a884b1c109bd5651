import { Counter, Histogram, type Registry } from 'prom-client';
import type { TicketCategorized } from '@mailroom/events';

// What the categorizer decided, across methods (the LLM's own metrics are in
// llm/llm-metrics.ts). Labels stay low-cardinality: method and a review flag.

export interface CategorizerMetrics {
  record(payload: TicketCategorized, seconds: number): void;
  ignored: Counter<'type'>;
}

export function createCategorizerMetrics(registry: Registry): CategorizerMetrics {
  const categorizations = new Counter({
    name: 'mailroom_categorizer_categorizations_total',
    help: 'Tickets categorized, by the method that answered (llm, local) and whether review is needed.',
    labelNames: ['method', 'needs_review'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'mailroom_categorizer_categorization_duration_seconds',
    help: 'Time to categorize one ticket, fallback included, by the method that answered.',
    labelNames: ['method'] as const,
    buckets: [0.0005, 0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30],
    registers: [registry],
  });
  const ignored = new Counter({
    name: 'mailroom_categorizer_ignored_events_total',
    help: 'Events on tickets.events that are not ticket.created, by type.',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  return {
    ignored,
    record(payload, seconds) {
      categorizations.inc({ method: payload.method, needs_review: String(payload.needsReview) });
      duration.observe({ method: payload.method }, seconds);
    },
  };
}

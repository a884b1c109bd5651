import type { TicketCategorized } from '@mailroom/events';
import type { Categorization } from './llm/types.js';
import { meetsConfidenceThreshold, type Taxonomy } from './taxonomy.js';

// One rule for every method: an answer below its department's confidence threshold
// (or one the categorizer itself flags) goes to the fallback department for a human
// look. The router then only follows `department`; `needsReview` says why it is there.

export function toCategorizedPayload(
  taxonomy: Taxonomy,
  c: Categorization,
  fallbackDepartment: string,
): TicketCategorized {
  const needsReview =
    c.needsReview === true || !meetsConfidenceThreshold(taxonomy, c.department, c.confidence);
  return {
    department: needsReview ? fallbackDepartment : c.department,
    category: c.category,
    priority: c.priority as TicketCategorized['priority'],
    confidence: round(c.confidence, 4),
    method: c.method,
    model: c.model,
    promptVersion: c.promptVersion,
    latencyMs: round(c.latencyMs, 3),
    tokens: c.tokens,
    needsReview,
    ...(c.fallbackReason ? { fallbackReason: c.fallbackReason } : {}),
  };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

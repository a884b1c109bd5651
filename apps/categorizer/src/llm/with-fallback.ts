import { Counter, type Registry } from 'prom-client';
import { registeredMetric } from '@mailroom/observability';
import { LLM_ERROR_KINDS, LlmError } from './llm-error.js';
import type {
  CategorizeOptions,
  Categorization,
  Categorizer,
  Logger,
  TicketInput,
} from './types.js';

// Claude first, the local model when Claude cannot answer: a ticket is always
// categorized, and the result says which one answered and why.

export interface FallbackCategorizerOptions {
  primary: Categorizer;
  fallback: Categorizer;
  registry: Registry;
  logger?: Logger;
}

export function createFallbackCategorizer(opts: FallbackCategorizerOptions): Categorizer {
  const name = 'mailroom_categorizer_fallbacks_total';
  const fallbacks = registeredMetric(
    opts.registry,
    name,
    () =>
      new Counter({
        name,
        help: 'Categorizations answered by the fallback, by the primary failure code.',
        labelNames: ['reason'] as const,
        registers: [opts.registry],
      }),
  );
  for (const reason of Object.keys(LLM_ERROR_KINDS)) fallbacks.inc({ reason }, 0);

  return {
    async categorize(
      ticket: TicketInput,
      options: CategorizeOptions = {},
    ): Promise<Categorization> {
      try {
        return await opts.primary.categorize(ticket, options);
      } catch (err) {
        // Shutting down: no point in asking the fallback; the record will be redelivered.
        if (options.signal?.aborted) throw err;
        const reason = err instanceof LlmError ? err.code : 'LLM_UNEXPECTED';
        fallbacks.inc({ reason });
        // An error that is not an LlmError is a bug of ours: answered, but loudly.
        const level = err instanceof LlmError ? 'warn' : 'error';
        opts.logger?.[level](
          {
            ticketId: ticket.ticketId,
            reason,
            err: err instanceof LlmError ? err.toJSON() : String(err),
          },
          'primary categorizer failed; using fallback',
        );
        const result = await opts.fallback.categorize(ticket, options);
        return { ...result, method: 'local', fallbackReason: reason };
      }
    },
  };
}

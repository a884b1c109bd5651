import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registeredMetric } from '@mailroom/observability';
import { LLM_ERROR_KINDS } from './llm-error.js';
import type { TokenUsage } from './types.js';

// The LLM's metrics, registered on the registry the app passes in (STYLE.md rule 8).
// Labels stay low-cardinality: model, outcome (success or an error kind), kind.

export interface LlmMetrics {
  requestDuration: Histogram<'model' | 'outcome'>;
  requests: Counter<'outcome'>;
  errors: Counter<'kind'>;
  retries: Counter<'kind'>;
  tokens: Counter<'model' | 'kind'>;
  cost: Counter<'model'>;
  circuitState: Gauge;
  inFlight: Gauge;
  recordTokens(model: string, tokens: TokenUsage): void;
}

// Two categorizers on one registry (e.g. a reload) must share, not re-register.
const getOrCreate = registeredMetric;

export function createLlmMetrics(registry: Registry): LlmMetrics {
  const registers = [registry];
  const requestDuration = getOrCreate(
    registry,
    'mailroom_llm_request_duration_seconds',
    () =>
      new Histogram({
        name: 'mailroom_llm_request_duration_seconds',
        help: 'Duration of one HTTP request to the LLM API, by outcome (success or error kind).',
        labelNames: ['model', 'outcome'] as const,
        buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30],
        registers,
      }),
  );
  const requests = getOrCreate(
    registry,
    'mailroom_llm_requests_total',
    () =>
      new Counter({
        name: 'mailroom_llm_requests_total',
        help: 'HTTP requests to the LLM API, by outcome; circuit_open counts calls never sent.',
        labelNames: ['outcome'] as const,
        registers,
      }),
  );
  const errors = getOrCreate(
    registry,
    'mailroom_llm_errors_total',
    () =>
      new Counter({
        name: 'mailroom_llm_errors_total',
        help: 'Failed LLM requests by error kind (each attempt counts).',
        labelNames: ['kind'] as const,
        registers,
      }),
  );
  const retries = getOrCreate(
    registry,
    'mailroom_llm_retries_total',
    () =>
      new Counter({
        name: 'mailroom_llm_retries_total',
        help: 'Retries of LLM requests, by the error kind that caused them.',
        labelNames: ['kind'] as const,
        registers,
      }),
  );
  const tokens = getOrCreate(
    registry,
    'mailroom_llm_tokens_total',
    () =>
      new Counter({
        name: 'mailroom_llm_tokens_total',
        help: 'Tokens billed by the LLM API, by kind (input, output, cache_read, cache_write).',
        labelNames: ['model', 'kind'] as const,
        registers,
      }),
  );
  const cost = getOrCreate(
    registry,
    'mailroom_llm_cost_usd_total',
    () =>
      new Counter({
        name: 'mailroom_llm_cost_usd_total',
        help: 'Estimated LLM spend in US dollars, from token counts and configured prices.',
        labelNames: ['model'] as const,
        registers,
      }),
  );
  const circuitState = getOrCreate(
    registry,
    'mailroom_llm_circuit_state',
    () =>
      new Gauge({
        name: 'mailroom_llm_circuit_state',
        help: 'State of the LLM circuit breaker: 0 closed, 1 half-open, 2 open.',
        registers,
      }),
  );
  const inFlight = getOrCreate(
    registry,
    'mailroom_llm_in_flight_requests',
    () =>
      new Gauge({
        name: 'mailroom_llm_in_flight_requests',
        help: 'LLM HTTP requests currently in flight (bounded by maxConcurrency).',
        registers,
      }),
  );

  // Every error kind exists from the start at 0, so rate() and alerts see a series
  // before the first failure (an absent series reads as "no data", not "no errors").
  for (const kind of new Set(Object.values(LLM_ERROR_KINDS))) errors.inc({ kind }, 0);

  return {
    requestDuration,
    requests,
    errors,
    retries,
    tokens,
    cost,
    circuitState,
    inFlight,
    recordTokens(model, t) {
      tokens.inc({ model, kind: 'input' }, t.input);
      tokens.inc({ model, kind: 'output' }, t.output);
      tokens.inc({ model, kind: 'cache_read' }, t.cacheRead);
      tokens.inc({ model, kind: 'cache_write' }, t.cacheWrite);
    },
  };
}

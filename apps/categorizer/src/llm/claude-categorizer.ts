import Anthropic from '@anthropic-ai/sdk';
import type {
  Message,
  MessageCreateParamsNonStreaming,
} from '@anthropic-ai/sdk/resources/messages';
import type { Registry } from 'prom-client';
import type { Taxonomy } from '../taxonomy.js';
import {
  circuitStateValue,
  createCircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
} from './circuit-breaker.js';
import { LlmError, toLlmError } from './llm-error.js';
import { createLlmMetrics } from './llm-metrics.js';
import { parseToolOutput } from './parse-tool-output.js';
import { costUsd, pricingFor, type ModelPricing } from './pricing.js';
import { createRequestBuilder, promptVersionFor } from './prompt.js';
import { DEFAULT_RETRY_POLICY, retryLoop, type RetryPolicy } from './retry.js';
import { createSemaphore } from './semaphore.js';
import type {
  CategorizeOptions,
  Categorization,
  Categorizer,
  Logger,
  TicketInput,
  TokenUsage,
} from './types.js';

/** The current Haiku: built for classification and routing, and cheapest per ticket. */
export const DEFAULT_MODEL = 'claude-haiku-5-5';

export interface ClaudeCategorizerOptions {
  apiKey: string;
  /** The API's origin; tests point it at the fake server. */
  baseURL?: string;
  model?: string;
  taxonomy: Taxonomy;
  /** One HTTP attempt. */
  timeoutMs?: number;
  /** The whole call, retries and waits included. */
  deadlineMs?: number;
  maxRetries?: number;
  retry?: Partial<Omit<RetryPolicy, 'maxRetries'>>;
  maxConcurrency?: number;
  /** Remove e-mail addresses, phone and card numbers before sending. */
  redact?: boolean;
  maxBodyChars?: number;
  maxTokens?: number;
  registry: Registry;
  logger?: Logger;
  breaker?: Partial<Omit<CircuitBreakerOptions, 'onStateChange'>>;
  /** USD per million tokens; defaults to the list price of known models. */
  pricing?: ModelPricing;
  /** Jitter source, injectable for tests. */
  random?: () => number;
}

export interface ClaudeCategorizer extends Categorizer {
  readonly model: string;
  readonly promptVersion: string;
  circuitState(): CircuitState;
}

export function createClaudeCategorizer(opts: ClaudeCategorizerOptions): ClaudeCategorizer {
  const model = opts.model ?? DEFAULT_MODEL;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadlineMs = opts.deadlineMs ?? 30_000;
  const policy: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    ...opts.retry,
    maxRetries: opts.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries,
  };
  const redact = opts.redact ?? true;
  const pricing = opts.pricing ?? pricingFor(model);
  const log = opts.logger;
  if (!pricing) log?.warn({ model }, 'no pricing known for model; cost metric stays 0');

  const metrics = createLlmMetrics(opts.registry);
  const breaker = createCircuitBreaker({
    ...opts.breaker,
    onStateChange(from, to) {
      metrics.circuitState.set(circuitStateValue(to));
      log?.warn({ from, to, model }, 'LLM circuit breaker changed state');
    },
  });
  metrics.circuitState.set(circuitStateValue(breaker.state));
  const semaphore = createSemaphore(opts.maxConcurrency ?? 8);
  // maxRetries 0: the retry loop below is ours, so every attempt is observable.
  const client = new Anthropic({
    apiKey: opts.apiKey,
    baseURL: opts.baseURL ?? 'https://api.anthropic.com',
    maxRetries: 0,
    timeout: timeoutMs,
  });

  const buildRequest = createRequestBuilder({
    taxonomy: opts.taxonomy,
    model,
    redact,
    maxTokens: opts.maxTokens ?? 400,
    maxBodyChars: opts.maxBodyChars ?? 8_000,
  });
  const promptVersion = promptVersionFor(opts.taxonomy);

  async function attempt(
    params: MessageCreateParamsNonStreaming,
    signal: AbortSignal,
    classify: (e: unknown) => LlmError,
  ) {
    const release = await semaphore.acquire(signal).catch((e: unknown) => {
      throw classify(e);
    });
    metrics.inFlight.inc();
    const started = performance.now();
    try {
      const message = await client.messages.create(params, { signal, timeout: timeoutMs });
      const tokens = usageOf(message);
      // Tokens are billed whether or not the answer is usable.
      metrics.recordTokens(model, tokens);
      if (pricing) metrics.cost.inc({ model }, costUsd(tokens, pricing));
      const output = parseToolOutput(message, opts.taxonomy);
      const seconds = (performance.now() - started) / 1000;
      metrics.requestDuration.observe({ model, outcome: 'success' }, seconds);
      metrics.requests.inc({ outcome: 'success' });
      return { output, tokens };
    } catch (e) {
      const err = classify(e);
      metrics.requestDuration.observe(
        { model, outcome: err.kind },
        (performance.now() - started) / 1000,
      );
      metrics.requests.inc({ outcome: err.kind });
      metrics.errors.inc({ kind: err.kind });
      throw err;
    } finally {
      metrics.inFlight.dec();
      release();
    }
  }

  async function categorize(
    ticket: TicketInput,
    options: CategorizeOptions = {},
  ): Promise<Categorization> {
    const started = performance.now();
    const { params, redactions } = buildRequest(ticket);
    const permit = breaker.acquire();
    if (!permit) {
      metrics.requests.inc({ outcome: 'circuit_open' });
      metrics.errors.inc({ kind: 'circuit_open' });
      throw new LlmError('LLM_CIRCUIT_OPEN', `circuit open, retry in ${breaker.retryInMs()} ms`);
    }
    const deadline = AbortSignal.timeout(deadlineMs);
    const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
    // Whoever aborted decides the code: our deadline is a timeout, the caller's an abort.
    const classify = (e: unknown): LlmError =>
      options.signal?.aborted && !(e instanceof LlmError)
        ? new LlmError('LLM_ABORTED', 'aborted by caller', { cause: e })
        : toLlmError(e, { deadlineExceeded: deadline.aborted });
    if (redactions > 0)
      log?.debug({ ticketId: ticket.ticketId, redactions }, 'redacted ticket text');
    try {
      const { output, tokens } = await retryLoop(() => attempt(params, signal, classify), {
        policy,
        deadlineAt: Date.now() + deadlineMs,
        signal,
        random: opts.random,
        toError: classify,
        shouldStop: () => breaker.state === 'open',
        onRetry(err, retry, delayMs) {
          metrics.retries.inc({ kind: err.kind });
          log?.warn(
            {
              ticketId: ticket.ticketId,
              err: err.toJSON(),
              retry: retry + 1,
              delayMs: Math.round(delayMs),
            },
            'LLM request failed, retrying',
          );
        },
      });
      permit.success();
      return {
        ...output,
        method: 'llm',
        model,
        promptVersion,
        latencyMs: Math.round(performance.now() - started),
        tokens,
      };
    } catch (e) {
      const err = classify(e);
      // The caller giving up says nothing about the API's health.
      if (err.code === 'LLM_ABORTED') permit.ignore();
      else permit.failure();
      log?.warn({ ticketId: ticket.ticketId, err: err.toJSON() }, 'LLM categorization failed');
      throw err;
    }
  }

  return {
    model,
    promptVersion,
    categorize,
    circuitState: () => breaker.state,
  };
}

function usageOf(message: Message): TokenUsage {
  const u = message.usage as Message['usage'] | undefined;
  return {
    // A malformed usage object must not turn a good answer into NaN metrics.
    input: u?.input_tokens ?? 0,
    output: u?.output_tokens ?? 0,
    cacheRead: u?.cache_read_input_tokens ?? 0,
    cacheWrite: u?.cache_creation_input_tokens ?? 0,
  };
}

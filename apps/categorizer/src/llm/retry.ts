import { setTimeout as sleep } from 'node:timers/promises';
import type { LlmError } from './llm-error.js';

// Our own bounded retry loop (the SDK runs with maxRetries 0) so that every attempt
// is visible in metrics and logs, retry-after is honoured, and one total deadline
// bounds the whole call: a consumer must not sit on a partition for minutes.

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A longer retry-after than this is not waited for: the fallback answers instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 30_000,
};

/**
 * retry-after-ms (Anthropic's own, milliseconds) wins over retry-after, which is
 * either seconds or an HTTP date (RFC 9110 10.2.3).
 */
export function parseRetryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) {
    return Math.max(0, Number(ms));
  }
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with "equal jitter": never zero, never in lock-step. */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** The wait before retry number `retry` (0-based): at least what the API asked for. */
export function retryDelayMs(
  err: LlmError,
  retry: number,
  policy: RetryPolicy,
  random = Math.random,
): number {
  const backoff = backoffDelayMs(retry, policy, random);
  if (err.retryAfterMs === undefined) return backoff;
  // A little jitter on top so that the clients told "1 s" do not all return at once.
  return err.retryAfterMs + random() * Math.min(backoff, err.retryAfterMs * 0.1 + 50);
}

export interface RetryLoopOptions {
  policy: RetryPolicy;
  /** Epoch ms after which no further attempt starts. */
  deadlineAt: number;
  signal?: AbortSignal;
  random?: () => number;
  /** Turns anything thrown into an LlmError (the loop branches on `retriable`). */
  toError: (err: unknown) => LlmError;
  /** Called before each wait; for logs and metrics. */
  onRetry?: (err: LlmError, retry: number, delayMs: number) => void;
  /** Checked before each retry; true stops the loop (e.g. the circuit opened meanwhile). */
  shouldStop?: () => boolean;
}

export async function retryLoop<T>(
  attempt: (n: number) => Promise<T>,
  opts: RetryLoopOptions,
): Promise<T> {
  const random = opts.random ?? Math.random;
  for (let n = 0; ; n++) {
    let err: LlmError;
    try {
      return await attempt(n);
    } catch (e) {
      err = opts.toError(e);
      err.attempts = n + 1;
    }
    if (!err.retriable || n >= opts.policy.maxRetries || opts.shouldStop?.()) throw err;
    if (err.retryAfterMs !== undefined && err.retryAfterMs > opts.policy.maxRetryAfterMs) throw err;
    const delay = retryDelayMs(err, n, opts.policy, random);
    // Waiting past the deadline only delays the fallback's answer.
    if (Date.now() + delay >= opts.deadlineAt) throw err;
    opts.onRetry?.(err, n, delay);
    try {
      await sleep(delay, undefined, { signal: opts.signal });
    } catch (abort) {
      throw opts.toError(abort);
    }
  }
}

import { describe, expect, it } from 'vitest';
import { LlmError } from './llm-error.js';
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  parseRetryAfterMs,
  retryDelayMs,
  retryLoop,
} from './retry.js';

const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1, maxDelayMs: 4 };
const toError = (e: unknown) =>
  e instanceof LlmError ? e : new LlmError('LLM_UNEXPECTED', String(e));

describe('retry', () => {
  it('parses retry-after as seconds, HTTP date, and retry-after-ms', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfterMs(new Headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(
      parseRetryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now),
    ).toBe(3000);
    expect(
      parseRetryAfterMs(new Headers({ 'retry-after': 'Wed, 31 Dec 2025 00:00:00 GMT' }), now),
    ).toBe(0);
    expect(
      parseRetryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now),
    ).toBe(250);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfterMs(new Headers(), now)).toBeUndefined();
  });

  it('backs off exponentially with jitter, capped', () => {
    const p = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(0, p, () => 0)).toBe(50);
    expect(backoffDelayMs(0, p, () => 1)).toBe(100);
    expect(backoffDelayMs(3, p, () => 1)).toBe(800);
    expect(backoffDelayMs(10, p, () => 1)).toBe(1000);
  });

  it('waits at least retry-after', () => {
    const err = new LlmError('LLM_RATE_LIMITED', '429', { retryAfterMs: 1000 });
    expect(retryDelayMs(err, 0, DEFAULT_RETRY_POLICY, () => 0)).toBe(1000);
    expect(retryDelayMs(err, 0, DEFAULT_RETRY_POLICY, () => 1)).toBeGreaterThan(1000);
  });

  it('retries retriable errors up to maxRetries and records attempts', async () => {
    let calls = 0;
    const err = await retryLoop(
      () => {
        calls++;
        return Promise.reject(new LlmError('LLM_SERVER_ERROR', '500'));
      },
      { policy: { ...policy, maxRetries: 2 }, deadlineAt: Date.now() + 10_000, toError },
    ).catch((e: unknown) => e as LlmError);
    expect(calls).toBe(3);
    expect(err.attempts).toBe(3);
  });

  it('does not retry non-retriable errors', async () => {
    let calls = 0;
    await expect(
      retryLoop(
        () => {
          calls++;
          return Promise.reject(new LlmError('LLM_INVALID_OUTPUT', 'bad'));
        },
        { policy, deadlineAt: Date.now() + 10_000, toError },
      ),
    ).rejects.toMatchObject({ code: 'LLM_INVALID_OUTPUT', attempts: 1 });
    expect(calls).toBe(1);
  });

  it('gives up rather than wait past the deadline or a too long retry-after', async () => {
    const slow = new LlmError('LLM_RATE_LIMITED', '429', { retryAfterMs: 5_000 });
    let calls = 0;
    const run = (deadlineAt: number, maxRetryAfterMs: number) =>
      retryLoop(
        () => {
          calls++;
          return Promise.reject(slow);
        },
        { policy: { ...policy, maxRetryAfterMs }, deadlineAt, toError },
      );
    await expect(run(Date.now() + 1_000, 60_000)).rejects.toBe(slow);
    await expect(run(Date.now() + 60_000, 1_000)).rejects.toBe(slow);
    expect(calls).toBe(2);
  });

  it('stops when asked (circuit opened meanwhile) and succeeds after a transient error', async () => {
    let calls = 0;
    await expect(
      retryLoop(
        () => {
          calls++;
          return Promise.reject(new LlmError('LLM_OVERLOADED', '529'));
        },
        { policy, deadlineAt: Date.now() + 10_000, toError, shouldStop: () => true },
      ),
    ).rejects.toMatchObject({ code: 'LLM_OVERLOADED' });
    expect(calls).toBe(1);
    let n = 0;
    const ok = await retryLoop(
      () =>
        n++ === 0 ? Promise.reject(new LlmError('LLM_CONNECTION', 'reset')) : Promise.resolve('ok'),
      { policy, deadlineAt: Date.now() + 10_000, toError },
    );
    expect(ok).toBe('ok');
  });
});

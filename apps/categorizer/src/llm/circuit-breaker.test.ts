import { describe, expect, it } from 'vitest';
import { circuitStateValue, createCircuitBreaker, type CircuitState } from './circuit-breaker.js';

function clock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function fail(b: ReturnType<typeof createCircuitBreaker>, n: number) {
  for (let i = 0; i < n; i++) b.acquire()?.failure();
}

describe('circuit breaker', () => {
  it('opens after N consecutive failures and rejects while open', () => {
    const c = clock();
    const b = createCircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: c.now });
    fail(b, 2);
    b.acquire()?.success(); // resets the streak
    fail(b, 2);
    expect(b.state).toBe('closed');
    fail(b, 1);
    expect(b.state).toBe('open');
    expect(b.acquire()).toBeUndefined();
    expect(b.retryInMs()).toBe(1000);
  });

  it('opens on failure rate over the window once enough calls were seen', () => {
    const b = createCircuitBreaker({
      failureThreshold: 100,
      failureRateThreshold: 0.6,
      windowSize: 10,
      minimumRequests: 6,
    });
    b.acquire()?.success();
    b.acquire()?.success();
    fail(b, 3);
    expect(b.state).toBe('closed'); // 3/5 but fewer calls than minimumRequests
    fail(b, 1);
    expect(b.state).toBe('open'); // 4/6
  });

  it('half-opens after the cool-down, admits one probe, closes on its success', () => {
    const c = clock();
    const changes: Array<[CircuitState, CircuitState]> = [];
    const b = createCircuitBreaker({
      failureThreshold: 1,
      cooldownMs: 500,
      now: c.now,
      onStateChange: (from, to) => changes.push([from, to]),
    });
    fail(b, 1);
    c.advance(499);
    expect(b.acquire()).toBeUndefined();
    c.advance(1);
    expect(b.state).toBe('half_open');
    const probe = b.acquire();
    expect(probe).toBeDefined();
    expect(b.acquire()).toBeUndefined(); // only one probe at a time
    probe?.success();
    expect(b.state).toBe('closed');
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half_open'],
      ['half_open', 'closed'],
    ]);
  });

  it('reopens with a fresh cool-down when the probe fails', () => {
    const c = clock();
    const b = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 500, now: c.now });
    fail(b, 1);
    c.advance(500);
    b.acquire()?.failure();
    expect(b.state).toBe('open');
    expect(b.retryInMs()).toBe(500);
  });

  it('an ignored probe frees the slot without deciding', () => {
    const c = clock();
    const b = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 10, now: c.now });
    fail(b, 1);
    c.advance(10);
    b.acquire()?.ignore();
    expect(b.state).toBe('half_open');
    expect(b.acquire()).toBeDefined();
  });

  it('settles a permit only once and ignores stragglers after opening', () => {
    const b = createCircuitBreaker({ failureThreshold: 2 });
    const p = b.acquire();
    const straggler = b.acquire();
    p?.failure();
    p?.failure();
    expect(b.state).toBe('closed');
    b.acquire()?.failure();
    expect(b.state).toBe('open');
    straggler?.success();
    expect(b.state).toBe('open');
  });

  it('maps states to gauge values', () => {
    expect(
      ['closed', 'half_open', 'open'].map((s) => circuitStateValue(s as CircuitState)),
    ).toEqual([0, 1, 2]);
  });
});

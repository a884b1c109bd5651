import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFallbackCategorizer } from '../src/llm/with-fallback.js';
import { startFakeAnthropic, type FakeAnthropic } from './fake-anthropic-server.js';
import { localStandIn, makeClaude, metricValue, recordingLogger, ticket } from './helpers.js';

// Claude as primary against the fake server, a deterministic stand-in as the local
// model: every failure mode of the primary still yields a categorization.

let server: FakeAnthropic;
beforeAll(async () => {
  server = await startFakeAnthropic();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => server.reset());

function setup(overrides: Parameters<typeof makeClaude>[1] = {}) {
  const registry = new Registry();
  const logger = recordingLogger();
  const { categorizer: primary } = makeClaude(server, { registry, ...overrides });
  const fallback = localStandIn();
  const categorizer = createFallbackCategorizer({ primary, fallback, registry, logger });
  return { primary, fallback, categorizer, registry, logger };
}

describe('fallback categorizer', () => {
  it('returns the primary answer when Claude answers', async () => {
    const { categorizer, fallback } = setup();
    const result = await categorizer.categorize(ticket());
    expect(result.method).toBe('llm');
    expect(result.fallbackReason).toBeUndefined();
    expect(fallback.calls).toHaveLength(0);
  });

  it('answers locally when Claude times out', async () => {
    const { categorizer, fallback, registry, logger } = setup({ timeoutMs: 200, maxRetries: 0 });
    server.setBehaviour({ kind: 'delay', ms: 1_500 });
    const t0 = Date.now();
    const result = await categorizer.categorize(
      ticket({ body: 'Where is my refund for invoice 42?' }),
    );
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(result).toMatchObject({
      method: 'local',
      fallbackReason: 'LLM_TIMEOUT',
      department: 'Finance',
      model: 'stand-in',
    });
    expect(fallback.calls).toHaveLength(1);
    expect(
      await metricValue(registry, 'mailroom_categorizer_fallbacks_total', {
        reason: 'LLM_TIMEOUT',
      }),
    ).toBe(1);
    expect(logger.entries.some((e) => e.level === 'warn' && e.msg?.includes('fallback'))).toBe(
      true,
    );
  });

  it('answers locally on invalid output and while the circuit is open', async () => {
    const { categorizer, primary } = setup({
      maxRetries: 0,
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
    });
    server.setBehaviour({ kind: 'text' });
    expect(await categorizer.categorize(ticket())).toMatchObject({
      method: 'local',
      fallbackReason: 'LLM_INVALID_OUTPUT',
    });
    server.setBehaviour({ kind: 'overloaded' });
    expect(await categorizer.categorize(ticket())).toMatchObject({
      method: 'local',
      fallbackReason: 'LLM_OVERLOADED',
    });
    expect(primary.circuitState()).toBe('open');
    const before = server.requests.length;
    expect(await categorizer.categorize(ticket())).toMatchObject({
      method: 'local',
      fallbackReason: 'LLM_CIRCUIT_OPEN',
    });
    expect(server.requests).toHaveLength(before);
  });

  it('answers an unexpected primary failure too, but logs it as an error', async () => {
    const registry = new Registry();
    const logger = recordingLogger();
    const categorizer = createFallbackCategorizer({
      primary: { categorize: () => Promise.reject(new TypeError('bug')) },
      fallback: localStandIn(),
      registry,
      logger,
    });
    expect(await categorizer.categorize(ticket())).toMatchObject({
      method: 'local',
      fallbackReason: 'LLM_UNEXPECTED',
    });
    expect(logger.entries.map((e) => e.level)).toEqual(['error']);
  });

  it('does not fall back when the caller aborted (shutdown)', async () => {
    const { categorizer, fallback } = setup();
    server.setBehaviour({ kind: 'delay', ms: 1_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await expect(categorizer.categorize(ticket(), { signal: ac.signal })).rejects.toMatchObject({
      code: 'LLM_ABORTED',
    });
    expect(fallback.calls).toHaveLength(0);
  });
});

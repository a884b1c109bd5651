import { Registry } from 'prom-client';
import {
  createClaudeCategorizer,
  type ClaudeCategorizerOptions,
} from '../src/llm/claude-categorizer.js';
import type { Categorizer, Logger, TicketInput } from '../src/llm/types.js';
import { DEFAULT_TAXONOMY } from '../src/taxonomy.js';
import type { FakeAnthropic } from './fake-anthropic-server.js';

// Shared by the categorizer tests: a categorizer pointed at the fake server with
// short timings, a metric reader, and a deterministic stand-in for the local model.

export function makeClaude(
  server: FakeAnthropic,
  overrides: Partial<ClaudeCategorizerOptions> = {},
) {
  const registry = overrides.registry ?? new Registry();
  const categorizer = createClaudeCategorizer({
    apiKey: server.apiKey,
    baseURL: server.url,
    taxonomy: DEFAULT_TAXONOMY,
    timeoutMs: 2_000,
    deadlineMs: 10_000,
    maxRetries: 2,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    maxConcurrency: 4,
    redact: true,
    ...overrides,
    registry,
  });
  return { categorizer, registry };
}

export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  // Counters and gauges have one series per label set; a histogram counts its _count.
  return values
    .filter((v) => {
      const series = (v as { metricName?: string }).metricName;
      return series === undefined || series === name || series === `${name}_count`;
    })
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

export const ticket = (over: Partial<TicketInput> = {}): TicketInput => ({
  ticketId: 'T-1',
  subject: 'Laptop does not boot',
  body: 'My laptop shows a boot error since this morning, I cannot log in to the VPN.',
  requesterEmail: 'alice@example.test',
  ...over,
});

/** A deterministic stand-in for the local model (the real one lives in libs/classifier). */
export function localStandIn(): Categorizer & { calls: TicketInput[] } {
  const calls: TicketInput[] = [];
  return {
    calls,
    categorize(t) {
      calls.push(t);
      const finance = /invoice|refund|payment/i.test(`${t.subject} ${t.body}`);
      return Promise.resolve({
        department: finance ? 'Finance' : 'General',
        category: finance ? 'billing' : 'general',
        priority: 'medium',
        confidence: 0.4,
        method: 'local',
        model: 'stand-in',
        promptVersion: 'n/a',
        latencyMs: 0,
        tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
      });
    },
  };
}

export function recordingLogger(): Logger & {
  entries: Array<{ level: string; obj: object; msg?: string }>;
} {
  const entries: Array<{ level: string; obj: object; msg?: string }> = [];
  const at = (level: string) => (obj: object, msg?: string) =>
    void entries.push({ level, obj, msg });
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

// Fixed buckets of the rollup histograms. Fixed on purpose: a rollup row is a sum over
// events, so the bounds must never change under it (a new bound needs a replay).

/** Upper bounds (seconds) of ack / first response / resolution times; SLA targets sit on them. */
export const DURATION_BUCKETS = [
  60,
  300,
  900,
  1800,
  3600,
  7200,
  14_400,
  28_800,
  86_400,
  172_800,
  432_000,
  604_800,
  Infinity,
] as const;

/** Upper bounds (seconds) of the classifier latency. */
export const LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, Infinity] as const;

/** Upper bounds of the categorization confidence (0..1). */
export const CONFIDENCE_BUCKETS = [0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1] as const;

/** The smallest bound that holds `value` (the last bound holds everything above). */
export function bucketOf(bounds: readonly number[], value: number): number {
  for (const b of bounds) if (value <= b) return b;
  return bounds[bounds.length - 1]!;
}

/** Dimension values of a ticket not yet routed / categorized (rollup keys are NOT NULL). */
export const UNKNOWN = {
  department: 'unassigned',
  category: 'uncategorized',
  priority: 'unset',
  channel: 'unknown',
} as const;

export const DURATION_METRICS = ['ack', 'first_response', 'resolution'] as const;
export type DurationMetric = (typeof DURATION_METRICS)[number];

/** Prometheus `le` label text of a bound. */
export const leLabel = (b: number) => (b === Infinity ? '+Inf' : String(b));

/**
 * SLA targets (seconds) by metric and priority, on bucket bounds so the share within
 * the target is exact from the histograms (Grafana uses the same `le` values).
 */
const FIRST_RESPONSE_SLA: Record<string, number> = { critical: 3600, high: 14_400, medium: 28_800 };
const RESOLUTION_SLA: Record<string, number> = { critical: 28_800, high: 86_400, medium: 172_800 };
export const SLA_TARGETS: Record<DurationMetric, (priority: string) => number> = {
  ack: () => 300,
  first_response: (p) => FIRST_RESPONSE_SLA[p] ?? 86_400,
  resolution: (p) => RESOLUTION_SLA[p] ?? 432_000,
};

import type { Metric, Registry } from 'prom-client';
import { leLabel } from './buckets.js';
import type { RollupSnapshot, Row } from './rollup-snapshot.js';

// The rollups as Prometheus series, read from Postgres at scrape time (never counted in
// memory: every instance and every restart reports the same figures). Cumulative sums
// of events are counters/histograms (they only grow; a rebuild is a counter reset);
// figures that go down (tickets per status, per current department) are gauges.

type Labels = Record<string, string | number>;
interface Sample {
  metricName?: string;
  labels: Labels;
  value: number;
}
type Kind = 'gauge' | 'counter' | 'histogram';

interface RollupMetric {
  name: string;
  help: string;
  type: Kind;
  samples(s: RollupSnapshot): Sample[];
}

const pick = (r: Row, keys: readonly string[]): Labels =>
  Object.fromEntries(keys.map((k) => [k, String(r[k])]));
const num = (v: string | number | undefined) => Number(v ?? 0);

/** Sums `value` of rows grouped by `keys` (rollup rows are finer than the labels). */
function sumBy(rows: Row[], keys: readonly string[], value: string): Sample[] {
  const out = new Map<string, Sample>();
  for (const r of rows) {
    const labels = pick(r, keys);
    const id = JSON.stringify(labels);
    const s = out.get(id) ?? { labels, value: 0 };
    s.value += num(r[value]);
    out.set(id, s);
  }
  return [...out.values()];
}

/**
 * Histogram series from per-bucket rows: cumulative `_bucket{le}`, `_sum`, `_count`.
 * `bounds` lists every bound so each series has all of its buckets.
 */
function histogram(
  name: string,
  buckets: Row[],
  keys: readonly string[],
  bounds: readonly number[],
  count: string,
  totals: { rows: Row[]; count: string; sum: string },
): Sample[] {
  const perSeries = new Map<string, { labels: Labels; perLe: Map<number, number> }>();
  for (const r of buckets) {
    const labels = pick(r, keys);
    const id = JSON.stringify(labels);
    const s = perSeries.get(id) ?? { labels, perLe: new Map<number, number>() };
    const le = num(r.le ?? r.confidence_le);
    s.perLe.set(le, (s.perLe.get(le) ?? 0) + num(r[count]));
    perSeries.set(id, s);
  }
  const out: Sample[] = [];
  for (const { labels, perLe } of perSeries.values()) {
    let acc = 0;
    for (const b of bounds) {
      acc += perLe.get(b) ?? 0;
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: leLabel(b) }, value: acc });
    }
  }
  for (const s of sumBy(totals.rows, keys, totals.sum))
    out.push({ metricName: `${name}_sum`, labels: s.labels, value: s.value });
  for (const s of sumBy(totals.rows, keys, totals.count))
    out.push({ metricName: `${name}_count`, labels: s.labels, value: s.value });
  return out;
}

/** Registers each metric on the registry; `read` gives the snapshot of the current scrape. */
export function registerRollupMetrics(
  registry: Registry,
  read: () => Promise<RollupSnapshot>,
  metrics: readonly RollupMetric[],
): void {
  for (const m of metrics) {
    // prom-client serializes any registered object with get(); this is its Metric contract.
    const metric = {
      name: m.name,
      help: m.help,
      type: m.type,
      aggregator: 'sum',
      get: async () => ({
        name: m.name,
        help: m.help,
        type: m.type,
        aggregator: 'sum',
        values: m.samples(await read()),
      }),
      reset: () => undefined,
    };
    registry.registerMetric(metric as unknown as Metric);
  }
}

export { histogram, sumBy, type RollupMetric, type Sample };

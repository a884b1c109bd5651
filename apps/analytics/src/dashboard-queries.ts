import type pg from 'pg';
import { DURATION_BUCKETS, DURATION_METRICS, SLA_TARGETS, type DurationMetric } from './buckets.js';
import { quantileFromBuckets } from './quantile.js';

// The dashboard figures, read from the rollups only (small tables, independent of the
// number of tickets). intake-api serves them; the bench compares them to a GROUP BY
// over the tickets table.

type Db = Pick<pg.Pool, 'query'>;
const OPEN = ['pending', 'in_progress'];
const round = (v: number, digits = 4) => Math.round(v * 10 ** digits) / 10 ** digits;

export interface DashboardSummary {
  total: number;
  open: number;
  byDepartment: { department: string; total: number; open: number }[];
  byStatus: Record<string, number>;
  averageConfidence: number | null;
  last24h: { created: number; resolved: number };
}

export async function dashboardSummary(db: Db, now = new Date()): Promise<DashboardSummary> {
  const since = new Date(now.getTime() - 24 * 3_600_000).toISOString();
  const [states, confidence, created, resolved] = await Promise.all([
    db.query<{ department: string; status: string; tickets: number }>(
      `SELECT department, status, sum(tickets)::float8 AS tickets
       FROM analytics_ticket_states GROUP BY 1, 2 HAVING sum(tickets) <> 0`,
    ),
    db.query<{ avg: number | null }>(
      `SELECT sum(confidence_sum) / nullif(sum(categorizations), 0) AS avg FROM analytics_categorizations`,
    ),
    db.query<{ n: number }>(
      `SELECT coalesce(sum(tickets), 0)::float8 AS n FROM analytics_ticket_volume WHERE hour > $1`,
      [since],
    ),
    db.query<{ n: number }>(
      `SELECT coalesce(sum(transitions), 0)::float8 AS n FROM analytics_status_transitions
       WHERE hour > $1 AND to_status = 'resolved'`,
      [since],
    ),
  ]);
  const byStatus: Record<string, number> = { pending: 0, in_progress: 0, resolved: 0, closed: 0 };
  const depts = new Map<string, { department: string; total: number; open: number }>();
  for (const r of states.rows) {
    byStatus[r.status] = (byStatus[r.status] ?? 0) + r.tickets;
    const d = depts.get(r.department) ?? { department: r.department, total: 0, open: 0 };
    d.total += r.tickets;
    if (OPEN.includes(r.status)) d.open += r.tickets;
    depts.set(r.department, d);
  }
  const byDepartment = [...depts.values()].sort((a, b) => b.total - a.total);
  const avg = confidence.rows[0]?.avg;
  return {
    total: byDepartment.reduce((s, d) => s + d.total, 0),
    open: byDepartment.reduce((s, d) => s + d.open, 0),
    byDepartment,
    byStatus,
    averageConfidence: avg === null || avg === undefined ? null : round(Number(avg)),
    last24h: { created: created.rows[0]?.n ?? 0, resolved: resolved.rows[0]?.n ?? 0 },
  };
}

export async function routingReport(db: Db) {
  const [routing, reroutes] = await Promise.all([
    db.query<{ department: string; mode: string; routed: number; misrouted: number; conf: number }>(
      `SELECT department, mode, routed::float8 AS routed, rerouted_away::float8 AS misrouted,
              confidence_sum AS conf FROM analytics_routing ORDER BY department, mode`,
    ),
    db.query<{ from: string; to: string; actor: string; reroutes: number }>(
      `SELECT from_department AS "from", to_department AS "to", actor_type AS actor,
              reroutes::float8 AS reroutes FROM analytics_reroutes ORDER BY reroutes DESC, 1, 2`,
    ),
  ]);
  const depts = new Map<
    string,
    {
      department: string;
      routed: number;
      automatic: number;
      manual: number;
      misroutedAutomatic: number;
      confidenceSum: number;
      reroutedIn: number;
      reroutedOut: number;
    }
  >();
  const dept = (name: string) => {
    let d = depts.get(name);
    if (!d) {
      d = {
        department: name,
        routed: 0,
        automatic: 0,
        manual: 0,
        misroutedAutomatic: 0,
        confidenceSum: 0,
        reroutedIn: 0,
        reroutedOut: 0,
      };
      depts.set(name, d);
    }
    return d;
  };
  for (const r of routing.rows) {
    const d = dept(r.department);
    d.routed += r.routed;
    d.confidenceSum += r.conf;
    if (r.mode === 'auto') {
      d.automatic += r.routed;
      d.misroutedAutomatic += r.misrouted;
    } else d.manual += r.routed;
  }
  for (const r of reroutes.rows) {
    dept(r.from).reroutedOut += r.reroutes;
    dept(r.to).reroutedIn += r.reroutes;
  }
  const items = [...depts.values()].map(({ confidenceSum, ...d }) => ({
    ...d,
    averageConfidence: d.routed ? round(confidenceSum / d.routed) : null,
    automaticAccuracy: d.automatic ? round(1 - d.misroutedAutomatic / d.automatic) : null,
  }));
  const automatic = items.reduce((s, d) => s + d.automatic, 0);
  const misrouted = items.reduce((s, d) => s + d.misroutedAutomatic, 0);
  const routed = items.reduce((s, d) => s + d.routed, 0);
  const totalReroutes = reroutes.rows.reduce((s, r) => s + r.reroutes, 0);
  return {
    routed,
    automatic,
    reroutes: totalReroutes,
    automaticAccuracy: automatic ? round(1 - misrouted / automatic) : null,
    rerouteRate: routed ? round(totalReroutes / routed) : null,
    departments: items,
    topReroutes: reroutes.rows.slice(0, 20),
  };
}

type DurationFigures = {
  count: number;
  averageSeconds: number | null;
  p50Seconds: number | null;
  p90Seconds: number | null;
  withinSla: number | null;
};

export async function performanceReport(db: Db) {
  const [buckets, totals] = await Promise.all([
    db.query<{
      metric: DurationMetric;
      department: string;
      priority: string;
      le: number;
      n: number;
    }>(
      `SELECT metric, department, priority, le, observations::float8 AS n FROM analytics_duration_buckets`,
    ),
    db.query<{ metric: DurationMetric; department: string; n: number; sum: number }>(
      `SELECT metric, department, sum(observations)::float8 AS n, sum(sum_seconds) AS sum
       FROM analytics_duration_totals GROUP BY 1, 2`,
    ),
  ]);
  const figures = (department: string | null): Record<DurationMetric, DurationFigures> => {
    const out = {} as Record<DurationMetric, DurationFigures>;
    for (const metric of DURATION_METRICS) {
      const rows = buckets.rows.filter(
        (r) => r.metric === metric && (department === null || r.department === department),
      );
      const perLe = DURATION_BUCKETS.map((le) =>
        rows.filter((r) => r.le === le).reduce((s, r) => s + r.n, 0),
      );
      const t = totals.rows.filter(
        (r) => r.metric === metric && (department === null || r.department === department),
      );
      const count = t.reduce((s, r) => s + r.n, 0);
      const sum = t.reduce((s, r) => s + r.sum, 0);
      const within = rows
        .filter((r) => r.le <= SLA_TARGETS[metric](r.priority))
        .reduce((s, r) => s + r.n, 0);
      out[metric] = {
        count,
        averageSeconds: count ? round(sum / count, 1) : null,
        p50Seconds: quantileFromBuckets(0.5, DURATION_BUCKETS, perLe),
        p90Seconds: quantileFromBuckets(0.9, DURATION_BUCKETS, perLe),
        withinSla: count ? round(within / count) : null,
      };
    }
    return out;
  };
  const departments = [...new Set(totals.rows.map((r) => r.department))].sort();
  return {
    overall: figures(null),
    departments: departments.map((department) => ({ department, ...figures(department) })),
  };
}

export async function trendsReport(db: Db, days: number, now = new Date()) {
  const since = new Date(now.getTime() - days * 86_400_000);
  since.setUTCHours(0, 0, 0, 0);
  const [created, transitions] = await Promise.all([
    db.query<{ day: string; n: number }>(
      `SELECT to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, sum(tickets)::float8 AS n
       FROM analytics_ticket_volume WHERE hour >= $1 GROUP BY 1`,
      [since.toISOString()],
    ),
    db.query<{ day: string; to: string; n: number }>(
      `SELECT to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, to_status AS "to",
              sum(transitions)::float8 AS n
       FROM analytics_status_transitions WHERE hour >= $1 AND to_status IN ('resolved', 'closed')
       GROUP BY 1, 2`,
      [since.toISOString()],
    ),
  ]);
  const items: { date: string; created: number; resolved: number; closed: number }[] = [];
  for (let t = since.getTime(); t <= now.getTime(); t += 86_400_000) {
    const date = new Date(t).toISOString().slice(0, 10);
    const moved = (to: string) =>
      transitions.rows.find((r) => r.day === date && r.to === to)?.n ?? 0;
    items.push({
      date,
      created: created.rows.find((r) => r.day === date)?.n ?? 0,
      resolved: moved('resolved'),
      closed: moved('closed'),
    });
  }
  return { days, items };
}

export async function ticketStats(db: Db, now = new Date()) {
  const [states, first] = await Promise.all([
    db.query<{ priority: string; category: string; status: string; n: number }>(
      `SELECT priority, category, status, sum(tickets)::float8 AS n
       FROM analytics_ticket_states GROUP BY 1, 2, 3 HAVING sum(tickets) <> 0`,
    ),
    db.query<{ first: Date | null }>(
      `SELECT min(hour) AS first FROM analytics_ticket_volume WHERE tickets > 0`,
    ),
  ]);
  const byPriority: Record<string, number> = {};
  const byCategory: Record<string, number> = {};
  let total = 0;
  let open = 0;
  for (const r of states.rows) {
    total += r.n;
    if (OPEN.includes(r.status)) open += r.n;
    byPriority[r.priority] = (byPriority[r.priority] ?? 0) + r.n;
    byCategory[r.category] = (byCategory[r.category] ?? 0) + r.n;
  }
  const firstAt = first.rows[0]?.first;
  const days = firstAt ? Math.max(1, (now.getTime() - firstAt.getTime()) / 86_400_000) : 1;
  return { total, open, averagePerDay: round(total / days, 2), byPriority, byCategory };
}

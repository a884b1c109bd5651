// GET /api/dashboard/summary figures with 1,000,000 tickets: from the analytics rollups
// (what the endpoint does) next to the same figures by GROUP BY over the tickets table,
// measured in the same run. Runs in its own database (mailroom_bench), so the dev and
// test data stay untouched; the generated data is kept for the next run.
//   npx tsx apps/analytics/bench/summary.bench.ts [--tickets 1000000] [--rounds 200]
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createPool, migrate } from '@mailroom/db';
import { dashboardSummary } from '../src/dashboard-queries.js';

const { values } = parseArgs({
  options: {
    tickets: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '200' },
    'baseline-rounds': { type: 'string', default: '20' },
    database: { type: 'string', default: 'mailroom_bench' },
  },
});
const TICKETS = Number(values.tickets);
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/mailroom';
const benchUrl = (() => {
  const u = new URL(baseUrl);
  u.pathname = `/${values.database}`;
  return u.toString();
})();

async function ensureDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      values.database,
    ]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${values.database}`);
  } finally {
    await admin.end();
  }
  await migrate({ url: benchUrl });
}

const DEPARTMENTS = `ARRAY['IT Support','Billing','HR','Sales','Facilities','Security']`;
const CATEGORIES = `ARRAY['Network','Hardware','Software','Access','Invoice','Refund','Payroll','Leave',
  'Quote','Contract','Building','Parking','Phishing','Malware','Email','Printer','VPN','Other']`;

/** 1M tickets by generate_series (in one statement), then the rollups the consumer keeps. */
async function generate(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tickets');
  if (rows[0]!.n === TICKETS) return;
  console.log(`generating ${TICKETS} tickets (once; kept in ${values.database})...`);
  const t0 = performance.now();
  await pool.query('TRUNCATE tickets CASCADE');
  for (const t of [
    'analytics_ticket_states',
    'analytics_ticket_volume',
    'analytics_status_transitions',
    'analytics_categorizations',
  ])
    await pool.query(`TRUNCATE ${t}`);
  await pool.query(`
    INSERT INTO tickets (id, number, source_key, title, description, requester_email, channel, status,
      priority, category, department, categorization, created_at, updated_at, resolved_at)
    SELECT md5(i::text)::uuid, i, 'bench:' || i, 'Ticket ' || i, 'generated for the benchmark',
      'user' || (i % 5000) || '@example.test',
      CASE WHEN i % 3 = 0 THEN 'api' ELSE 'email' END,
      s.status, (ARRAY['low','medium','high','critical'])[1 + i % 4],
      (${CATEGORIES})[1 + i % 18], (${DEPARTMENTS})[1 + (i / 7) % 6],
      jsonb_build_object('confidence', round((0.3 + (i % 70) / 100.0)::numeric, 2),
                         'method', CASE WHEN i % 5 = 0 THEN 'local' ELSE 'llm' END),
      c.created_at, c.created_at,
      CASE WHEN s.status IN ('resolved','closed') THEN c.created_at + interval '5 hours' END
    FROM generate_series(1, ${TICKETS}) AS i,
      LATERAL (SELECT now() - (i % 365) * interval '1 day' - (i % 1440) * interval '1 minute' AS created_at) c,
      LATERAL (SELECT (ARRAY['pending','in_progress','resolved','closed','closed','resolved'])[1 + i % 6] AS status) s`);
  // The rollups as the analytics consumer would have built them from the same tickets' events.
  await pool.query(`
    INSERT INTO analytics_ticket_states (department, category, priority, channel, status, tickets)
    SELECT department, category, priority, channel, status, count(*) FROM tickets GROUP BY 1, 2, 3, 4, 5`);
  await pool.query(`
    INSERT INTO analytics_ticket_volume (hour, department, category, priority, channel, tickets)
    SELECT date_trunc('hour', created_at), department, category, priority, channel, count(*)
    FROM tickets GROUP BY 1, 2, 3, 4, 5`);
  await pool.query(`
    INSERT INTO analytics_status_transitions (hour, department, from_status, to_status, transitions)
    SELECT date_trunc('hour', resolved_at), department, 'in_progress', 'resolved', count(*)
    FROM tickets WHERE resolved_at IS NOT NULL GROUP BY 1, 2`);
  await pool.query(`
    INSERT INTO analytics_categorizations (method, department, confidence_le, categorizations, confidence_sum)
    SELECT categorization->>'method', department,
      CASE WHEN (categorization->>'confidence')::float8 <= 0.5 THEN 0.5 ELSE 1 END,
      count(*), sum((categorization->>'confidence')::float8)
    FROM tickets GROUP BY 1, 2, 3`);
  await pool.query('ANALYZE');
  console.log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** The same figures as dashboardSummary, by GROUP BY over the tickets table. */
async function summaryFromTickets(pool: pg.Pool) {
  const [byDeptStatus, confidence, last24h] = await Promise.all([
    pool.query<{ department: string; status: string; n: number }>(
      `SELECT department, status, count(*)::int AS n FROM tickets GROUP BY 1, 2`,
    ),
    pool.query<{ avg: number }>(
      `SELECT avg((categorization->>'confidence')::float8) AS avg FROM tickets`,
    ),
    pool.query<{
      created: number;
      resolved: number;
    }>(`SELECT count(*) FILTER (WHERE created_at > now() - interval '24 hours')::int AS created,
                       count(*) FILTER (WHERE resolved_at > now() - interval '24 hours')::int AS resolved
                FROM tickets`),
  ]);
  const total = byDeptStatus.rows.reduce((s, r) => s + r.n, 0);
  return { total, confidence: confidence.rows[0], last24h: last24h.rows[0] };
}

async function time(rounds: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;

await ensureDatabase();
const pool = createPool({ url: benchUrl, max: 4, applicationName: 'analytics-bench' });
try {
  await generate(pool);
  const fromRollups = await dashboardSummary(pool);
  const fromTickets = await summaryFromTickets(pool);
  if (fromRollups.total !== fromTickets.total)
    throw new Error('rollups and tickets disagree on the total');
  await time(10, () => dashboardSummary(pool)); // warm-up
  const rollups = await time(Number(values.rounds), () => dashboardSummary(pool));
  const scan = await time(Number(values['baseline-rounds']), () => summaryFromTickets(pool));
  const r95 = pct(rollups, 0.95);
  const s95 = pct(scan, 0.95);
  console.log(`tickets: ${fromRollups.total}`);
  console.log(
    `summary from rollups:          p50 ${pct(rollups, 0.5).toFixed(2)} ms  p95 ${r95.toFixed(2)} ms  (${rollups.length} rounds)`,
  );
  console.log(
    `same figures by GROUP BY scan: p50 ${pct(scan, 0.5).toFixed(1)} ms  p95 ${s95.toFixed(1)} ms  (${scan.length} rounds)`,
  );
  console.log(
    `ratio (p95): ${(s95 / r95).toFixed(1)}× faster; target ≥ 20× and < 50 ms: ${s95 / r95 >= 20 && r95 < 50 ? 'met' : 'NOT met'}`,
  );
} finally {
  await pool.end();
}

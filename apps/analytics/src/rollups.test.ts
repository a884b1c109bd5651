import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@mailroom/db';
import { deterministicId, makeEvent, type Envelope } from '@mailroom/events';
import { Registry } from 'prom-client';
import { stackEnv } from '../../../test/support/env.js';
import { lifecycle } from '../test/lifecycle.js';
import { freshSchema, type RollupSchema } from '../test/schema-fixture.js';
import { applyEvent } from './apply-event.js';
import {
  dashboardSummary,
  performanceReport,
  routingReport,
  ticketStats,
  trendsReport,
} from './dashboard-queries.js';
import { DEFAULT_PRICES } from './pricing.js';
import { ROLLUP_METRICS } from './rollup-metric-defs.js';
import { registerRollupMetrics } from './rollup-metrics.js';
import { snapshotReader } from './rollup-snapshot.js';

const admin = createPool({ url: stackEnv('DATABASE_URL'), max: 2 });
const schemas: RollupSchema[] = [];
const now = new Date();
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);

const t4 = randomUUID();
const tickets: Envelope[][] = [
  lifecycle({
    createdAt: hoursAgo(5),
    department: 'billing',
    category: 'invoice',
    priority: 'high',
    ackAfterSeconds: 30,
    firstResponseAfterSeconds: 600,
    resolveAfterSeconds: 7000,
  }),
  lifecycle({
    createdAt: hoursAgo(3),
    department: 'billing',
    category: 'login',
    rerouteTo: 'it-support',
    firstResponseAfterSeconds: 1200,
  }),
  lifecycle({
    createdAt: hoursAgo(30),
    channel: 'api',
    department: 'it-support',
    category: 'vpn',
    method: 'local',
    confidence: 0.42,
  }),
  [
    ...lifecycle({ ticketId: t4, createdAt: hoursAgo(1), department: 'sales', category: 'quote' }),
    makeEvent('ticket.updated', {
      id: deterministicId('test', t4, 'updated'),
      ticketId: t4,
      source: 'analytics-test',
      payload: {
        changes: { priority: 'critical' },
        actor: { type: 'agent', id: 'agent@example.test' },
        commandId: randomUUID(),
      },
    }),
  ],
];

async function schema() {
  const s = await freshSchema(admin);
  schemas.push(s);
  return s;
}

let a: RollupSchema;
const outcomes: string[] = [];

beforeAll(async () => {
  a = await schema();
  // In order, every event delivered twice (at-least-once redelivery).
  for (const events of tickets)
    for (const e of events) {
      outcomes.push(await applyEvent(a.pool, e, DEFAULT_PRICES));
      outcomes.push(await applyEvent(a.pool, e, DEFAULT_PRICES));
    }
});

afterAll(async () => {
  for (const s of schemas) await s.drop();
  await admin.end();
});

describe('rollups', () => {
  it('applies every event once, however often it is delivered', () => {
    const applied = outcomes.filter((o) => o === 'applied').length;
    expect(applied).toBe(tickets.flat().length);
    expect(outcomes.filter((o) => o === 'duplicate').length).toBe(applied);
  });

  it('counts each ticket once, in the cell of its final dimensions', async () => {
    const { rows } = await a.pool.query(
      `SELECT department, category, priority, channel, tickets::int FROM analytics_ticket_volume
       WHERE tickets <> 0 ORDER BY department, category`,
    );
    expect(rows).toEqual([
      {
        department: 'billing',
        category: 'invoice',
        priority: 'high',
        channel: 'email',
        tickets: 1,
      },
      {
        department: 'it-support',
        category: 'login',
        priority: 'medium',
        channel: 'email',
        tickets: 1,
      },
      { department: 'it-support', category: 'vpn', priority: 'medium', channel: 'api', tickets: 1 },
      {
        department: 'sales',
        category: 'quote',
        priority: 'critical',
        channel: 'email',
        tickets: 1,
      },
    ]);
    const summary = await dashboardSummary(a.pool, now);
    expect(summary).toMatchObject({
      total: 4,
      open: 3,
      byStatus: { pending: 2, in_progress: 1, resolved: 1, closed: 0 },
      last24h: { created: 3, resolved: 1 },
    });
    expect(summary.averageConfidence).toBeCloseTo((0.87 * 3 + 0.42) / 4, 4);
    expect(summary.byDepartment.find((d) => d.department === 'it-support')).toEqual({
      department: 'it-support',
      total: 2,
      open: 2,
    });
    const stats = await ticketStats(a.pool, now);
    expect(stats).toMatchObject({
      total: 4,
      open: 3,
      byPriority: { high: 1, medium: 2, critical: 1 },
    });
    const trends = await trendsReport(a.pool, 3, now);
    expect(trends.items.reduce((s, d) => s + d.created, 0)).toBe(4);
    expect(trends.items.reduce((s, d) => s + d.resolved, 0)).toBe(1);
  });

  it('keeps durations, routing accuracy and LLM cost', async () => {
    const perf = await performanceReport(a.pool);
    expect(perf.overall.ack).toMatchObject({ count: 4, averageSeconds: 22.5, withinSla: 1 });
    expect(perf.overall.first_response.count).toBe(2);
    expect(perf.overall.resolution).toMatchObject({ count: 1, averageSeconds: 7000 });
    const routing = await routingReport(a.pool);
    expect(routing).toMatchObject({
      routed: 4,
      automatic: 4,
      reroutes: 1,
      automaticAccuracy: 0.75,
    });
    expect(routing.departments.find((d) => d.department === 'billing')).toMatchObject({
      routed: 2,
      misroutedAutomatic: 1,
      reroutedOut: 1,
    });
    const { rows } = await a.pool.query(
      `SELECT method, calls::int, cost_usd FROM analytics_llm_usage ORDER BY method`,
    );
    // claude-3-5-haiku: 1200 in × $0.8 + 90 out × $4 + 900 cache reads × $0.08 per million
    expect(rows[0]).toMatchObject({ method: 'llm', calls: 3 });
    expect(rows[0].cost_usd).toBeCloseTo(3 * 0.001392, 9);
    expect(rows[1]).toMatchObject({ method: 'local', calls: 1, cost_usd: 0 });
  });

  it('rebuilds the same rollups when the events are replayed into an empty schema', async () => {
    const b = await schema();
    // Another interleaving of the tickets (each ticket's own events stay in order, as on
    // a partition), no duplicates this time.
    const queues = tickets.map((t) => [...t]).reverse();
    while (queues.some((q) => q.length)) {
      for (const q of queues) {
        const e = q.shift();
        if (e) await applyEvent(b.pool, e, DEFAULT_PRICES);
      }
    }
    expect(await b.dump()).toEqual(await a.dump());
  });

  it('exposes the rollups as Prometheus series', async () => {
    const registry = new Registry();
    registerRollupMetrics(registry, snapshotReader(a.pool), ROLLUP_METRICS);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE mailroom_backlog_tickets gauge');
    expect(text).toContain('mailroom_backlog_tickets{department="it-support",priority="medium"} 2');
    expect(text).toContain('# TYPE mailroom_time_to_ack_seconds histogram');
    expect(text).toContain(
      'mailroom_time_to_ack_seconds_bucket{department="billing",priority="high",le="60"} 1',
    );
    expect(text).toContain('mailroom_misrouted_tickets_total{department="billing",mode="auto"} 1');
    expect(text).toContain(
      'mailroom_reroutes_total{from_department="billing",to_department="it-support",actor_type="agent"} 1',
    );
    expect(text).toMatch(
      /mailroom_categorization_confidence_bucket\{method="local",department="it-support",le="0.5"\} 1/,
    );
    expect(text).toMatch(
      /mailroom_categorization_cost_usd_total\{method="llm",model="claude-3-5-haiku-20241022"\} 0.00417\d*/,
    );
    expect(text).toContain(
      'mailroom_tickets_created{department="sales",category="quote",priority="critical",channel="email"} 1',
    );
  });
});

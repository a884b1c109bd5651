import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent, DEFAULT_PRICES } from '@mailroom/analytics';
import { lifecycle } from '../../../analytics/test/lifecycle.js';
import { unique } from '../../../../test/support/env.js';
import { json, makeKey, openHarness, testApp, type Harness } from '../../test/harness.js';
import type { App } from '../app-types.js';

let h: Harness;
let app: App;
let agent: Awaited<ReturnType<typeof makeKey>>;
// Departments only this file uses: the shared test database holds other tickets too.
const sales = unique('sales');
const billing = unique('billing');

let createdDays: string[] = [];
beforeAll(async () => {
  h = await openHarness();
  app = await testApp(h);
  agent = await makeKey(h.pool, 'agent');
  const now = Date.now();
  createdDays = [now - 3_600_000, now - 7_200_000].map((t) =>
    new Date(t).toISOString().slice(0, 10),
  );
  const events = [
    ...lifecycle({
      createdAt: new Date(now - 3_600_000),
      department: sales,
      category: 'quote',
      priority: 'high',
      firstResponseAfterSeconds: 300,
      resolveAfterSeconds: 1800,
    }),
    ...lifecycle({
      createdAt: new Date(now - 7_200_000),
      department: billing,
      category: 'invoice',
      rerouteTo: sales,
    }),
  ];
  // The analytics consumer's own code writes the rollups (apps/analytics is their writer).
  for (const e of events) await applyEvent(h.pool, e, DEFAULT_PRICES);
});

afterAll(async () => {
  await app.close();
  await h.close();
});

const get = async (url: string) => {
  const res = await app.inject({ method: 'GET', url, headers: agent.headers });
  return { status: res.statusCode, body: json(res.body) };
};

describe('dashboard endpoints (read the analytics rollups)', () => {
  it('GET /api/dashboard/summary counts tickets by their current department and status', async () => {
    const { status, body } = await get('/api/dashboard/summary');
    expect(status).toBe(200);
    const depts = body.byDepartment as { department: string; total: number; open: number }[];
    expect(depts.find((d) => d.department === sales)).toEqual({
      department: sales,
      total: 2,
      open: 1,
    });
    expect(depts.find((d) => d.department === billing)).toBeUndefined();
    expect(body.total).toBeGreaterThanOrEqual(2);
    expect((body.last24h as { created: number }).created).toBeGreaterThanOrEqual(2);
    expect(typeof body.averageConfidence).toBe('number');
  });

  it('GET /api/dashboard/routing reports automatic accuracy and reroutes', async () => {
    const { status, body } = await get('/api/dashboard/routing');
    expect(status).toBe(200);
    const depts = body.departments as { department: string }[];
    expect(depts.find((d) => d.department === billing)).toMatchObject({
      routed: 1,
      automatic: 1,
      misroutedAutomatic: 1,
      reroutedOut: 1,
      automaticAccuracy: 0,
    });
    expect(depts.find((d) => d.department === sales)).toMatchObject({
      routed: 1,
      reroutedIn: 1,
      automaticAccuracy: 1,
    });
  });

  it('GET /api/analytics/performance gives durations per department', async () => {
    const { status, body } = await get('/api/analytics/performance');
    expect(status).toBe(200);
    const mine = (body.departments as { department: string }[]).find((d) => d.department === sales);
    expect(mine).toMatchObject({
      first_response: { count: 1, averageSeconds: 300, withinSla: 1 },
      resolution: { count: 1, averageSeconds: 1800 },
    });
  });

  it('GET /api/analytics/trends validates days and lists one entry per day', async () => {
    expect((await get('/api/analytics/trends?days=0')).status).toBe(400);
    const { status, body } = await get('/api/analytics/trends?days=7');
    expect(status).toBe(200);
    const items = body.items as { date: string; created: number }[];
    expect(items.length).toBeGreaterThanOrEqual(8);
    // Counted on the (UTC) day each ticket was created: an hour ago may be yesterday.
    const on = (day: string) => items.find((i) => i.date === day)?.created ?? 0;
    const days = [...new Set(createdDays)];
    expect(days.reduce((n, day) => n + on(day), 0)).toBeGreaterThanOrEqual(2);
    expect((await get('/api/analytics/trends')).body.days).toBe(30);
  });

  it('GET /api/tickets/stats is not taken for GET /api/tickets/:id', async () => {
    const { status, body } = await get('/api/tickets/stats');
    expect(status).toBe(200);
    expect(body).toMatchObject({ total: expect.any(Number), open: expect.any(Number) });
    expect((body.byCategory as Record<string, number>).quote).toBeGreaterThanOrEqual(1);
    expect((await get('/api/tickets/99999999')).status).toBe(404);
  });

  it('needs an agent key', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/dashboard/summary' });
    expect(res.statusCode).toBe(401);
    const intake = await makeKey(h.pool, 'intake');
    const forbidden = await app.inject({
      method: 'GET',
      url: '/api/tickets/stats',
      headers: intake.headers,
    });
    expect(forbidden.statusCode).toBe(403);
  });
});

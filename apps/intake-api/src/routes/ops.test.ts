import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, makeKey, openHarness, testApp, type Harness } from '../../test/harness.js';
import type { App } from '../app-types.js';

let h: Harness;
let app: App;
let fakeApp: Server;
let fakeUrl: string;

beforeAll(async () => {
  h = await openHarness();
  fakeApp = createServer((_req, res) => res.end('{"status":"ok"}'));
  await new Promise<void>((r) => fakeApp.listen(0, '127.0.0.1', r));
  fakeUrl = `http://127.0.0.1:${(fakeApp.address() as AddressInfo).port}/health`;
  app = await testApp(h, { pipelineHealth: [{ name: 'router', url: fakeUrl }] });
});
afterAll(async () => {
  await app.close();
  await h.close();
  await new Promise((r) => fakeApp.close(r));
});

describe('operations', () => {
  it('/ready checks Kafka and Postgres', async () => {
    const res = await app.inject({ url: '/ready' });
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res.body)).toEqual({ status: 'ready', checks: { kafka: 'ok', postgres: 'ok' } });
  });

  it('/ready answers 503 with the reason of a failing check', async () => {
    const broken = await testApp(h, {
      readiness: {
        postgres: () => h.pool.query('SELECT 1'),
        kafka: () => Promise.reject(new Error('connection refused')),
      },
    });
    const res = await broken.inject({ url: '/ready' });
    await broken.close();
    expect(res.statusCode).toBe(503);
    expect(json(res.body)).toMatchObject({
      status: 'not_ready',
      checks: { kafka: 'connection refused' },
    });
  });

  it('/metrics exposes request durations by route template and accepted tickets', async () => {
    const intake = await makeKey(h.pool, 'intake');
    await app.inject({
      method: 'POST',
      url: '/api/tickets',
      headers: intake.headers,
      payload: { title: 't', description: 'd', requester: { email: 'a@example.test' } },
    });
    await app.inject({ url: '/api/tickets/123', headers: intake.headers });
    const text = (await app.inject({ url: '/metrics' })).body;
    expect(text).toMatch(
      /mailroom_http_request_duration_seconds_count\{method="POST",route="\/api\/tickets",status_code="202"\} 1/,
    );
    expect(text).toContain('route="/api/tickets/:id",status_code="403"');
    expect(text).toMatch(/mailroom_intake_tickets_accepted_total\{replay="false"\} 1/);
  });

  it('/api/health aggregates the apps of the pipeline', async () => {
    const ok = await app.inject({ url: '/api/health' });
    expect(ok.statusCode).toBe(200);
    expect(json(ok.body)).toMatchObject({
      status: 'ok',
      apps: { router: { status: 'up' }, 'intake-api': { status: 'up' } },
    });

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const degraded = await testApp(h, {
      pipelineHealth: [
        { name: 'router', url: fakeUrl },
        { name: 'notifier', url: `http://127.0.0.1:${closedPort}/health` },
      ],
    });
    const res = await degraded.inject({ url: '/api/health' });
    await degraded.close();
    expect(res.statusCode).toBe(503);
    expect(json(res.body)).toMatchObject({
      status: 'degraded',
      apps: { router: { status: 'up' }, notifier: { status: 'down', error: 'ECONNREFUSED' } },
    });
  });

  it('/docs/json is an OpenAPI 3 document with every path and the security schemes', async () => {
    const res = await app.inject({ url: '/docs/json' });
    const doc = json(res.body) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; security?: unknown }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/api/tickets',
      '/api/tickets/{id}',
      '/api/tickets/{id}/status',
      '/api/departments',
      '/api/departments/{name}/tickets',
      '/api/route',
      '/api/route/{ticketId}',
      '/api/routing/history/{ticketId}',
      '/api/routing/statistics',
      '/api/classify',
      '/health',
      '/ready',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    const post = doc.paths['/api/tickets']!.post!;
    expect(JSON.stringify(post.requestBody)).toContain('"requester"');
    expect(post.security).toBeDefined();
    expect(Object.keys(doc.components.securitySchemes)).toEqual(['bearerAuth', 'apiKeyHeader']);
    expect((await app.inject({ url: '/docs/' })).statusCode).toBe(200);
  });

  it('/ points API clients to the docs (browsers get the console)', async () => {
    const res = await app.inject({ url: '/' });
    expect(json(res.body)).toMatchObject({ docs: '/docs' });
    const browser = await app.inject({ url: '/', headers: { accept: 'text/html' } });
    expect(browser.headers.location).toBeUndefined();
  });

  it('unknown routes answer a JSON 404', async () => {
    const res = await app.inject({ url: '/api/nothing' });
    expect(res.statusCode).toBe(404);
    expect(json(res.body).error).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
  });
});

describe('POST /api/classify', () => {
  it('501 with a reason while no classifier is wired, the result when one is', async () => {
    const key = await makeKey(h.pool, 'intake');
    const payload = { title: 'Printer', description: 'Out of toner' };
    const missing = await app.inject({
      method: 'POST',
      url: '/api/classify',
      headers: key.headers,
      payload,
    });
    expect(missing.statusCode).toBe(501);
    expect(json(missing.body).error).toMatchObject({ code: 'CLASSIFIER_UNAVAILABLE' });

    const wired = await testApp(h, {
      classify: async (input) => ({ department: 'IT Support', echo: input.title }),
    });
    const res = await wired.inject({
      method: 'POST',
      url: '/api/classify',
      headers: key.headers,
      payload,
    });
    await wired.close();
    expect(res.statusCode).toBe(200);
    expect(json(res.body)).toEqual({ department: 'IT Support', echo: 'Printer' });
  });
});

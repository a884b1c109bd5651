import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, makeKey, openHarness, testApp, type Harness } from '../test/harness.js';
import { parseBootstrapKeys } from './api-keys.js';
import type { App } from './app-types.js';

let h: Harness;
let app: App;
let keys: Record<'intake' | 'agent' | 'admin', Awaited<ReturnType<typeof makeKey>>>;

beforeAll(async () => {
  h = await openHarness();
  app = await testApp(h);
  keys = {
    intake: await makeKey(h.pool, 'intake'),
    agent: await makeKey(h.pool, 'agent'),
    admin: await makeKey(h.pool, 'admin'),
  };
});
afterAll(async () => {
  await app.close();
  await h.close();
});

const submission = {
  title: 'Badge does not open door',
  description: 'My badge stopped working at the main entrance.',
  requester: { email: 'carol@example.test' },
};

describe('authentication', () => {
  it('401 without a key, and with an unknown key, as JSON errors', async () => {
    const none = await app.inject({ method: 'GET', url: '/api/tickets' });
    expect(none.statusCode).toBe(401);
    expect(json(none.body).error).toMatchObject({ code: 'UNAUTHENTICATED', retriable: false });

    const unknown = await app.inject({
      method: 'GET',
      url: '/api/tickets',
      headers: { 'x-api-key': 'mr_not-a-key-of-anyone-at-all' },
    });
    expect(unknown.statusCode).toBe(401);
    expect(json(unknown.body).error).toMatchObject({ code: 'INVALID_API_KEY' });
  });

  it('accepts Bearer and X-Api-Key alike', async () => {
    const bearer = await app.inject({ url: '/api/departments', headers: keys.agent.headers });
    const header = await app.inject({
      url: '/api/departments',
      headers: { 'x-api-key': keys.agent.key },
    });
    expect([bearer.statusCode, header.statusCode]).toEqual([200, 200]);
  });

  it('scopes: intake only submits, agent reads and writes, admin also manages keys', async () => {
    const as = (k: keyof typeof keys, method: 'GET' | 'POST', url: string, payload?: unknown) =>
      app
        .inject({ method, url, headers: keys[k].headers, ...(payload ? { payload } : {}) })
        .then((r) => r.statusCode);

    expect(await as('intake', 'POST', '/api/tickets', submission)).toBe(202);
    expect(await as('intake', 'GET', '/api/tickets')).toBe(403);
    expect(await as('intake', 'GET', '/api/departments')).toBe(403);
    expect(await as('intake', 'POST', '/api/classify', { title: 't', description: 'd' })).toBe(501);

    expect(await as('agent', 'POST', '/api/tickets', submission)).toBe(202);
    expect(await as('agent', 'GET', '/api/tickets')).toBe(200);
    expect(await as('agent', 'GET', '/api/keys')).toBe(403);

    expect(await as('admin', 'GET', '/api/tickets')).toBe(200);
    expect(await as('admin', 'GET', '/api/keys')).toBe(200);

    const forbidden = await app.inject({ url: '/api/tickets', headers: keys.intake.headers });
    expect(json(forbidden.body).error).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('health, metrics and docs need no key', async () => {
    for (const url of ['/health', '/metrics', '/docs/json', '/']) {
      expect((await app.inject({ url })).statusCode, url).toBe(200);
    }
  });

  it('an admin creates a key that works at once, and revokes it', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/keys',
      headers: keys.admin.headers,
      payload: { name: `form-${Date.now()}`, scopes: ['intake'] },
    });
    expect(created.statusCode).toBe(201);
    const { id, key } = json(created.body) as { id: string; key: string };
    const use = () =>
      app.inject({
        method: 'POST',
        url: '/api/tickets',
        headers: { authorization: `Bearer ${key}` },
        payload: submission,
      });
    expect((await use()).statusCode).toBe(202);
    const listed = await app.inject({ url: '/api/keys', headers: keys.admin.headers });
    expect(listed.body).not.toContain(key);
    expect(listed.body).toContain(id);

    const revoked = await app.inject({
      method: 'DELETE',
      url: `/api/keys/${id}`,
      headers: keys.admin.headers,
    });
    expect(revoked.statusCode).toBe(204);
    expect((await use()).statusCode).toBe(401);
  });
});

describe('rate limit', () => {
  it('429 with retry-after once a key used its requests of the minute; other keys unaffected', async () => {
    const limited = await testApp(h, { rateLimitPerMinute: 3 });
    try {
      const get = (k: keyof typeof keys) =>
        limited.inject({ url: '/api/departments', headers: keys[k].headers });
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await get('agent')).statusCode);
      expect(codes).toEqual([200, 200, 200, 429]);
      const res = await get('agent');
      expect(res.statusCode).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(json(res.body).error).toMatchObject({ code: 'RATE_LIMITED', retriable: true });
      expect((await get('admin')).statusCode).toBe(200);
      // Health is not limited.
      for (let i = 0; i < 5; i++)
        expect((await limited.inject({ url: '/health' })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('CORS', () => {
  it('answers preflights of configured origins only', async () => {
    const withCors = await testApp(h, { corsOrigins: ['https://desk.example.test'] });
    try {
      const preflight = (origin: string) =>
        withCors.inject({
          method: 'OPTIONS',
          url: '/api/tickets',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization,content-type',
          },
        });
      const ok = await preflight('https://desk.example.test');
      expect(ok.headers['access-control-allow-origin']).toBe('https://desk.example.test');
      const other = await preflight('https://evil.example.test');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await withCors.close();
    }
  });
});

describe('parseBootstrapKeys', () => {
  it('parses name:scope+scope:key and refuses bad entries', () => {
    expect(
      parseBootstrapKeys('web:intake:0123456789abcdefXYZ, ops:agent+admin:k:with:colons:123456'),
    ).toEqual([
      { name: 'web', scopes: ['intake'], key: '0123456789abcdefXYZ' },
      { name: 'ops', scopes: ['agent', 'admin'], key: 'k:with:colons:123456' },
    ]);
    expect(parseBootstrapKeys('')).toEqual([]);
    expect(() => parseBootstrapKeys('web:root:0123456789abcdef')).toThrow(/scope/);
    expect(() => parseBootstrapKeys('web:intake:short')).toThrow(/16 characters/);
  });
});

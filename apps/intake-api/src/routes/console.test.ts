import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, openHarness, testApp, type Harness } from '../../test/harness.js';
import type { App } from '../app-types.js';
import { installErrorHandling } from '../errors.js';
import { registerConsole } from './console.js';

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
const INDEX = '<!doctype html><title>console</title><div id="root"></div>';

const errorOf = (body: string) => json(body).error as { code: string; message: string };

let dir: string;
let app: App;

/** A Fastify app shaped like buildApp's: JSON `/`, an API route, our error handling. */
async function consoleApp(root: string): Promise<App> {
  const a = Fastify().withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandling(a);
  a.get('/', async () => ({ name: 'mailroom intake-api' }));
  a.get('/api/things', async () => ({ items: [] }));
  registerConsole(a, { root });
  await a.ready();
  return a;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), INDEX);
  await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  await writeFile(join(dir, 'favicon.svg'), '<svg/>');
  app = await consoleApp(dir);
});
afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the console route', () => {
  it('serves index.html at / to browsers and keeps the JSON index for API clients', async () => {
    const browser = await app.inject({ url: '/', headers: HTML });
    expect(browser.statusCode).toBe(200);
    expect(browser.headers['content-type']).toMatch(/^text\/html/);
    expect(browser.headers['cache-control']).toBe('no-cache');
    expect(browser.body).toBe(INDEX);
    const client = await app.inject({ url: '/' });
    expect(json(client.body)).toEqual({ name: 'mailroom intake-api' });
  });

  it('serves the hashed assets as immutable and other files as they are', async () => {
    const asset = await app.inject({ url: '/assets/index-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toMatch(/immutable/);
    expect((await app.inject({ url: '/favicon.svg' })).body).toBe('<svg/>');
  });

  it('answers client-side routes with index.html (a reload of /tickets/42)', async () => {
    const res = await app.inject({ url: '/tickets/42?tab=thread', headers: HTML });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(INDEX);
  });

  it('keeps JSON 404s for /api, /docs, missing assets, non-browsers and bad paths', async () => {
    for (const [url, headers] of [
      ['/api/nothing', HTML],
      ['/docs/nothing', HTML],
      ['/assets/missing.js', HTML],
      ['/tickets/42', {}],
    ] as const) {
      const res = await app.inject({ url, headers });
      expect(res.statusCode, url).toBe(404);
      expect(errorOf(res.body).code, url).toBe('ROUTE_NOT_FOUND');
    }
    const malformed = await app.inject({ url: '/%E0%A4%A', headers: HTML });
    // Fastify refuses a malformed path before routing: nothing of ours runs.
    expect(malformed.statusCode).toBe(400);
    expect((await app.inject({ url: '/api/things', headers: HTML })).body).toBe('{"items":[]}');
  });

  it('never serves a file outside its root', async () => {
    const res = await app.inject({ url: '/..%2f..%2fetc%2fpasswd', headers: HTML });
    expect(res.body).not.toMatch(/root:/);
    expect([200, 404]).toContain(res.statusCode);
  });

  it('says how to build the console when it is not built', async () => {
    const empty = await consoleApp(join(dir, 'not-built'));
    const res = await empty.inject({ url: '/', headers: HTML });
    await empty.close();
    expect(res.statusCode).toBe(404);
    expect(errorOf(res.body)).toMatchObject({ code: 'CONSOLE_NOT_BUILT' });
    expect(errorOf(res.body).message).toMatch(/npm run build:console/);
  });
});

describe('the console in the real app', () => {
  let h: Harness;
  let real: App;
  beforeAll(async () => {
    h = await openHarness();
    real = await testApp(h);
  });
  afterAll(async () => {
    await real.close();
    await h.close();
  });

  it('leaves /docs, the JSON index and the API 404s as they were', async () => {
    expect((await real.inject({ url: '/docs/json' })).statusCode).toBe(200);
    expect(json((await real.inject({ url: '/' })).body)).toMatchObject({ docs: '/docs' });
    const missing = await real.inject({ url: '/api/nothing', headers: HTML });
    expect(errorOf(missing.body).code).toBe('ROUTE_NOT_FOUND');
    // A browser gets the console (or the hint to build it), no longer the redirect.
    const browser = await real.inject({ url: '/', headers: HTML });
    expect(browser.headers.location).toBeUndefined();
    expect(browser.statusCode === 200 ? browser.body : errorOf(browser.body).code).toMatch(
      /<div id="root">|CONSOLE_NOT_BUILT/,
    );
  });
});

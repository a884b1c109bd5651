import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app-types.js';

const runCheck = async (check: () => Promise<unknown>, timeoutMs: number): Promise<string> => {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) =>
        timeout.addEventListener('abort', () =>
          reject(new Error(`timed out after ${timeoutMs} ms`)),
        ),
      ),
    ]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
};

async function probe(url: string, timeoutMs: number) {
  const started = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    const latencyMs = Math.round(performance.now() - started);
    return res.ok
      ? { status: 'up' as const, latencyMs }
      : { status: 'down' as const, latencyMs, error: `HTTP ${res.status}` };
  } catch (err) {
    const latencyMs = Math.round(performance.now() - started);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const error = cause?.code ?? cause?.message ?? (err as Error).message;
    return { status: 'down' as const, latencyMs, error };
  }
}

const Checks = Type.Object({
  status: Type.String(),
  checks: Type.Record(Type.String(), Type.String()),
});
const AppHealth = Type.Object({
  status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  url: Type.String(),
  latencyMs: Type.Number(),
  error: Type.Optional(Type.String()),
});

/** Liveness, readiness, metrics, the pipeline's health and the way to the docs: all public. */
export function registerOps(app: App, deps: AppDeps): void {
  const hidden = { tags: ['operations'] };

  // Browsers asking for / get the agent console (routes/console.ts); API clients this.
  app.get('/', { schema: { hide: true } }, async () => {
    return {
      name: 'mailroom intake-api',
      docs: '/docs',
      openapi: '/docs/json',
      health: '/api/health',
    };
  });

  app.get(
    '/health',
    {
      schema: {
        ...hidden,
        summary: 'Liveness',
        response: { 200: Type.Object({ status: Type.String() }) },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/ready',
    {
      schema: {
        ...hidden,
        summary: 'Readiness: Kafka and Postgres reachable (503 with the reasons if not)',
        response: { 200: Checks, 503: Checks },
      },
    },
    async (_request, reply) => {
      const names = Object.keys(deps.readiness);
      const results = await Promise.all(names.map((n) => runCheck(deps.readiness[n]!, 3_000)));
      const ok = results.every((r) => r === 'ok');
      return reply.code(ok ? 200 : 503).send({
        status: ok ? 'ready' : 'not_ready',
        checks: Object.fromEntries(names.map((n, i) => [n, results[i]!])),
      });
    },
  );

  app.get(
    '/metrics',
    { schema: { ...hidden, summary: 'Prometheus metrics' } },
    async (_req, reply) =>
      reply.type(deps.registry.contentType).send(await deps.registry.metrics()),
  );

  app.get(
    '/api/health',
    {
      schema: {
        ...hidden,
        summary: 'Health of every app of the pipeline (503 when one is down)',
        response: {
          200: Type.Object({ status: Type.String(), apps: Type.Record(Type.String(), AppHealth) }),
          503: Type.Object({ status: Type.String(), apps: Type.Record(Type.String(), AppHealth) }),
        },
      },
    },
    async (_request, reply) => {
      const results = await Promise.all(
        deps.pipelineHealth.map(
          async ({ name, url }) => [name, { url, ...(await probe(url, 1_500)) }] as const,
        ),
      );
      const apps = Object.fromEntries([
        ['intake-api', { status: 'up' as const, url: '/health', latencyMs: 0 }],
        ...results,
      ]);
      const ok = results.every(([, r]) => r.status === 'up');
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', apps });
    },
  );
}

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Counter } from 'prom-client';
import { stackEnv, unique, waitFor } from '../../../test/support/env.js';
import { createLogger, createMetricsRegistry, createShutdown, startOpsServer } from './index.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger({ name: 'test-app', level: 'debug', destination }) };
}

describe('logger', () => {
  it('redacts secrets at any depth and tags the app', async () => {
    const { lines, logger } = capture();
    logger.info(
      {
        password: 'p1',
        mailbox: { user: 'u', password: 'p2' },
        req: { headers: { authorization: 'Bearer x' } },
      },
      'hello',
    );
    await waitFor(() => lines.length > 0);
    const text = JSON.stringify(lines[0]);
    expect(text).not.toMatch(/p1|p2|Bearer/);
    expect(lines[0]).toMatchObject({
      app: 'test-app',
      msg: 'hello',
      level: 'info',
      mailbox: { user: 'u', password: '[redacted]' },
    });
  });
});

describe('ops server', () => {
  it('serves /metrics, /health and /ready with failing checks named', async () => {
    const registry = createMetricsRegistry('test-app');
    new Counter({ name: 'mailroom_test_things_total', help: 'things', registers: [registry] }).inc(
      3,
    );
    let dbUp = false;
    const { logger } = capture();
    const server = await startOpsServer({
      port: 0,
      registry,
      logger,
      checks: {
        kafka: async () => true,
        postgres: async () => {
          if (!dbUp) throw new Error('connection refused');
        },
      },
    });
    const base = `http://127.0.0.1:${server.port}`;
    try {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('mailroom_test_things_total{app="test-app"} 3');
      expect(metrics).toContain('mailroom_process_resident_memory_bytes');
      expect((await fetch(`${base}/health`)).status).toBe(200);
      const notReady = await fetch(`${base}/ready`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({
        status: 'not_ready',
        checks: { kafka: 'ok', postgres: 'connection refused' },
      });
      dbUp = true;
      expect((await fetch(`${base}/ready`)).status).toBe(200);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('is scraped by the real Prometheus of the stack (target up, samples present)', async () => {
    const registry = createMetricsRegistry('prom-probe');
    const name = unique('probe').replace('-', '_');
    new Counter({ name: `mailroom_${name}_total`, help: 'probe', registers: [registry] }).inc(7);
    const { logger } = capture();
    const server = await startOpsServer({ port: 0, host: '127.0.0.1', registry, logger });
    const dir = stackEnv('PROMETHEUS_TARGETS_DIR');
    const file = `${dir}/${name}.json`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      file,
      JSON.stringify([{ targets: [`127.0.0.1:${server.port}`], labels: { app: 'prom-probe' } }]),
    );
    const prom = stackEnv('PROMETHEUS_URL');
    try {
      const value = await waitFor(
        async () => {
          const q = encodeURIComponent(`mailroom_${name}_total`);
          const body = (await (await fetch(`${prom}/api/v1/query?query=${q}`)).json()) as {
            data: { result: { value: [number, string] }[] };
          };
          return body.data.result[0]?.value[1];
        },
        { timeoutMs: 40_000, intervalMs: 500, what: 'Prometheus to scrape the probe' },
      );
      expect(value).toBe('7');
      const targets = (await (await fetch(`${prom}/api/v1/targets`)).json()) as {
        data: { activeTargets: { scrapeUrl: string; health: string }[] };
      };
      const mine = targets.data.activeTargets.find((t) => t.scrapeUrl.includes(`:${server.port}/`));
      expect(mine?.health).toBe('up');
    } finally {
      rmSync(file, { force: true });
      await server.close();
    }
  }, 60_000);
});

describe('shutdown', () => {
  it('runs steps in order once, reports failures in the exit code', async () => {
    const { logger } = capture();
    const order: string[] = [];
    const codes: number[] = [];
    const shutdown = createShutdown({ logger, exit: (c) => void codes.push(c) });
    shutdown.add('intake', async () => void order.push('intake'));
    shutdown.add('consumers', async () => {
      order.push('consumers');
      throw new Error('boom');
    });
    shutdown.add('pools', async () => void order.push('pools'));
    await Promise.all([shutdown.run('test'), shutdown.run('again')]);
    expect(order).toEqual(['intake', 'consumers', 'pools']);
    expect(codes).toEqual([1]);
  });

  it('exits at the deadline when a step hangs', async () => {
    const { logger } = capture();
    const codes: number[] = [];
    const shutdown = createShutdown({ logger, deadlineMs: 100, exit: (c) => void codes.push(c) });
    shutdown.add('stuck', () => new Promise(() => undefined));
    void shutdown.run('test');
    await waitFor(() => codes.length > 0, { timeoutMs: 2000 });
    expect(codes).toEqual([1]);
  });
});

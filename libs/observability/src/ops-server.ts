import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';

/** A readiness check: resolves when the dependency is usable, throws with the reason if not. */
export type ReadinessCheck = () => Promise<unknown>;

export interface OpsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  logger: Logger;
  /** Named checks behind GET /ready, e.g. { kafka, postgres }. */
  checks?: Record<string, ReadinessCheck>;
  checkTimeoutMs?: number;
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The small HTTP server every consumer app runs next to its work: GET /metrics
 * (Prometheus text), GET /health (liveness: the event loop answers), GET /ready
 * (every check passes: 200, else 503 with the failing reasons).
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { registry, logger } = options;
  const checks = options.checks ?? {};
  const timeoutMs = options.checkTimeoutMs ?? 2_000;

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const handle = async () => {
      if (req.method !== 'GET') return reply(405, 'text/plain', 'method not allowed\n');
      if (path === '/metrics') return reply(200, registry.contentType, await registry.metrics());
      if (path === '/health') return reply(200, 'application/json', '{"status":"ok"}');
      if (path === '/ready') {
        const names = Object.keys(checks);
        const results = await Promise.all(names.map((n) => runCheck(checks[n]!, timeoutMs)));
        const detail = Object.fromEntries(names.map((n, i) => [n, results[i]]));
        const ok = results.every((r) => r === 'ok');
        return reply(
          ok ? 200 : 503,
          'application/json',
          JSON.stringify({ status: ok ? 'ready' : 'not_ready', checks: detail }),
        );
      }
      return reply(404, 'text/plain', 'not found\n');
    };
    handle().catch((err: unknown) => {
      logger.error({ err, path }, 'ops server request failed');
      if (!res.headersSent) reply(500, 'text/plain', 'internal error\n');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'ops server listening (/metrics, /health, /ready)');
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

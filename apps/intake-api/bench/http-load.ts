// The intake benchmark's load generator, run in a worker thread: closed loop (each
// connection sends its next request when the previous answer arrived), keep-alive,
// HTTP/1.1 written and read on raw sockets. Node's http client costs more CPU per
// request than the empty routes it measures, which would make the baseline the client's
// speed; this one costs a few µs per request, the same for every route.
import net from 'node:net';
import { parentPort } from 'node:worker_threads';

export interface LoadJob {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  concurrency: number;
  durationMs: number;
  /** Collect the `id` of every 202 answer (the accepted tickets). */
  collectIds: boolean;
}

export interface LoadResult {
  requests: number;
  elapsedMs: number;
  statuses: Record<string, number>;
  latenciesMs: number[];
  ids: string[];
}

interface Answer {
  status: number;
  body: Buffer;
}

class Connection {
  readonly socket: net.Socket;
  #buffer: Buffer | undefined;
  #waiting: { resolve(a: Answer): void; reject(e: Error): void } | undefined;
  closed = false;

  constructor(port: number, host: string) {
    this.socket = net.connect(port, host);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.#read(chunk));
    const fail = (err: Error) => {
      this.closed = true;
      this.#waiting?.reject(err);
      this.#waiting = undefined;
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('connection closed')));
  }

  send(request: Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  #read(chunk: Buffer): void {
    const buf = this.#buffer ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const headEnd = buf.indexOf('\r\n\r\n');
    if (headEnd < 0) {
      this.#buffer = buf;
      return;
    }
    const head = buf.toString('latin1', 0, headEnd).toLowerCase();
    const length = Number(/\r\ncontent-length: *(\d+)/.exec(head)?.[1] ?? 0);
    const end = headEnd + 4 + length;
    if (buf.length < end) {
      this.#buffer = buf;
      return;
    }
    this.#buffer = buf.length > end ? buf.subarray(end) : undefined;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve({ status: Number(head.slice(9, 12)), body: buf.subarray(headEnd + 4, end) });
  }
}

// Connections are kept from one slice of a target to the next (same concurrency).
const pools = new Map<string, Connection[]>();

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const url = new URL(job.url);
  const body = job.body ? Buffer.from(job.body) : undefined;
  const headers = {
    host: url.host,
    ...job.headers,
    ...(body ? { 'content-length': String(body.length) } : {}),
  };
  const request = Buffer.concat([
    Buffer.from(
      `${job.method} ${url.pathname}${url.search} HTTP/1.1\r\n` +
        Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('') +
        '\r\n',
      'latin1',
    ),
    body ?? Buffer.alloc(0),
  ]);
  const poolKey = `${job.method} ${job.url} ${job.concurrency}`;
  const pool = pools.get(poolKey) ?? [];
  pools.set(poolKey, pool);

  const statuses: Record<string, number> = {};
  const latenciesMs: number[] = [];
  const ids: string[] = [];
  const count = (code: string) => (statuses[code] = (statuses[code] ?? 0) + 1);

  const started = performance.now();
  const deadline = started + job.durationMs;
  await Promise.all(
    Array.from({ length: job.concurrency }, async (_, i) => {
      while (performance.now() < deadline) {
        let conn = pool[i];
        if (!conn || conn.closed) conn = pool[i] = new Connection(Number(url.port), url.hostname);
        const sent = performance.now();
        try {
          const answer = await conn.send(request);
          latenciesMs.push(performance.now() - sent);
          count(String(answer.status));
          if (job.collectIds && answer.status === 202) {
            ids.push((JSON.parse(answer.body.toString()) as { id: string }).id);
          }
        } catch (err) {
          latenciesMs.push(performance.now() - sent);
          count(`error:${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
    }),
  );
  return {
    requests: latenciesMs.length,
    elapsedMs: performance.now() - started,
    statuses,
    latenciesMs,
    ids,
  };
}

parentPort?.on('message', (job: LoadJob) => {
  void runLoad(job).then((result) => parentPort!.postMessage(result));
});

// Intake benchmark: POST /api/tickets at increasing concurrency, next to Fastify routes
// that do nothing, on the same server in the same run; then every accepted ticket id
// is looked up on tickets.raw (and, with --postgres, in the tickets table).
//
//   npx tsx apps/intake-api/bench/intake.bench.ts [--seconds 3] [--concurrency 1,16,64,256] [--postgres]
//
// The load generator is closed-loop (each connection sends its next request when the
// previous answer arrived, keep-alive) and runs in a worker thread, so that it does
// not share the server's event loop.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import type { Message } from '@mailroom/kafka';

interface LoadJob {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  concurrency: number;
  durationMs: number;
  collectIds: boolean;
}

interface LoadResult {
  requests: number;
  elapsedMs: number;
  statuses: Record<string, number>;
  latenciesMs: number[];
  ids: string[];
}

// ---- the load generator (worker thread) ---------------------------------------------

async function runLoad(job: LoadJob): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const url = new URL(job.url);
  const statuses: Record<string, number> = {};
  const latenciesMs: number[] = [];
  const ids: string[] = [];
  const body = job.body ? Buffer.from(job.body) : undefined;
  const headers = body ? { ...job.headers, 'content-length': String(body.length) } : job.headers;

  const once = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: job.method,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            latenciesMs.push(performance.now() - started);
            const code = String(res.statusCode);
            statuses[code] = (statuses[code] ?? 0) + 1;
            if (job.collectIds && res.statusCode === 202) {
              ids.push((JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id);
            }
            resolve();
          });
        },
      );
      req.on('error', (err) => {
        statuses[`error:${(err as NodeJS.ErrnoException).code ?? err.message}`] =
          (statuses[`error:${(err as NodeJS.ErrnoException).code ?? err.message}`] ?? 0) + 1;
        resolve();
      });
      req.end(body);
    });

  const started = performance.now();
  const deadline = started + job.durationMs;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (performance.now() < deadline) await once();
    }),
  );
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { requests: latenciesMs.length, elapsedMs, statuses, latenciesMs, ids };
}

if (!isMainThread) {
  parentPort!.on('message', (job: LoadJob) => {
    void runLoad(job).then((result) => parentPort!.postMessage(result));
  });
}

// ---- the server and the report (main thread) ----------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '1,16,64,256' },
      postgres: { type: 'boolean', default: false },
      /** Subset of the targets, e.g. "tickets" to profile the intake route alone. */
      only: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const levels = values.concurrency.split(',').map(Number);

  const { loadConfig } = await import('@mailroom/config');
  const { createPool } = await import('@mailroom/db');
  const { ALL_TOPICS, TOPICS, decodeEvent } = await import('@mailroom/events');
  const kafkaLib = await import('@mailroom/kafka');
  const { createLogger } = await import('@mailroom/observability');
  const { Registry } = await import('prom-client');
  const { IntakeConfigSchema } = await import('../src/config.js');
  const { buildApp } = await import('../src/app.js');
  const { createApiKeyStore, upsertApiKey } = await import('../src/api-keys.js');
  const { DEFAULT_DEPARTMENTS } = await import('../src/taxonomy.js');

  const config = loadConfig(IntakeConfigSchema, process.env);
  const logger = createLogger({ name: 'intake-bench', level: 'error' });
  const kafka = kafkaLib.createKafka({
    brokers: kafkaLib.parseBrokers(config.KAFKA_BROKERS),
    clientId: 'intake-bench',
    logger,
  });
  await kafkaLib.ensureTopics(
    kafka,
    ALL_TOPICS.map((topic) => ({
      topic,
      partitions: config.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
    })),
  );
  const pool = createPool({ url: config.DATABASE_URL, max: config.DATABASE_POOL_MAX });
  // The same lanes as start(): several idempotent producers side by side, each counted
  // to report how well concurrent sends coalesce.
  const producers = await Promise.all(
    Array.from({ length: config.PRODUCER_LANES }, () =>
      config.PRODUCER_CLIENT === 'platformatic'
        ? kafkaLib.createFastProducer({
            brokers: kafkaLib.parseBrokers(config.KAFKA_BROKERS),
            clientId: 'intake-bench',
            logger,
          })
        : kafkaLib.createProducer(kafka),
    ),
  );
  const produced = { requests: 0, records: 0 };
  const batching = kafkaLib.shardByKey(
    producers.map((producer) =>
      kafkaLib.createBatchingProducer(
        {
          ...producer,
          send: async (topic: string, messages: Message[]) => {
            produced.requests += 1;
            produced.records += messages.length;
            await producer.send(topic, messages);
          },
        },
        { maxBatch: config.PRODUCER_MAX_BATCH, lingerMs: config.PRODUCER_LINGER_MS },
      ),
    ),
  );
  const key = `bench_${randomBytes(18).toString('base64url')}`;
  await upsertApiKey(pool, { name: 'intake-bench', scopes: ['intake'], key });

  const app = await buildApp({
    pool,
    producer: batching,
    apiKeys: createApiKeyStore(pool),
    registry: new Registry(),
    logger,
    departments: DEFAULT_DEPARTMENTS,
    readiness: {},
    pipelineHealth: [],
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    corsOrigins: [],
    rateLimitPerMinute: 1_000_000_000,
    waitMaxSeconds: 0,
  });
  // The baselines: routes that do nothing, without and with reading the same body.
  app.get('/bench/empty', async () => ({}));
  app.post('/bench/empty', async () => ({}));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const admin = kafka.admin();
  await admin.connect();
  const startOffsets = await admin.fetchTopicOffsets(TOPICS.raw);

  // The worker runs this same file; tsx must compile it there too (a loader given by
  // --import does not reach a worker's entry module on Node 20).
  const worker = new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`,
    { eval: true },
  );
  const load = (job: LoadJob) =>
    new Promise<LoadResult>((resolve) => {
      worker.once('message', resolve);
      worker.postMessage(job);
    });

  const body = JSON.stringify({
    title: 'Benchmark: VPN disconnects every hour',
    description: 'Since Monday my VPN connection drops every hour on the hour. '.repeat(4),
    requester: { email: 'bench@example.test', name: 'Bench' },
    hints: { priority: 'medium' },
  });
  const json = { 'content-type': 'application/json' };
  const allTargets = [
    { name: 'GET empty route', method: 'GET' as const, path: '/bench/empty', headers: {} },
    {
      name: 'POST empty route',
      method: 'POST' as const,
      path: '/bench/empty',
      headers: json,
      body,
    },
    {
      name: 'POST /api/tickets',
      method: 'POST' as const,
      path: '/api/tickets',
      headers: { ...json, authorization: `Bearer ${key}` },
      body,
      collectIds: true,
    },
  ];
  const targets = values.only
    ? allTargets.filter((t) => t.name.includes(values.only!))
    : allTargets;

  const pct = (sorted: number[], p: number) =>
    sorted.length
      ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
      : NaN;
  const accepted = new Set<string>();
  const rows: string[][] = [];
  const rps: Record<string, number> = {};
  let failures = 0;

  // Warm-up: JIT, connections, the producer's metadata.
  for (const t of targets) {
    const r = await load({
      url: base + t.path,
      method: t.method,
      headers: t.headers,
      body: t.body,
      concurrency: 8,
      durationMs: 1000,
      collectIds: !!t.collectIds,
    });
    r.ids.forEach((id) => accepted.add(id));
  }
  for (const concurrency of levels) {
    for (const t of targets) {
      produced.requests = 0;
      produced.records = 0;
      const r = await load({
        url: base + t.path,
        method: t.method,
        headers: t.headers,
        body: t.body,
        concurrency,
        durationMs: seconds * 1000,
        collectIds: !!t.collectIds,
      });
      r.ids.forEach((id) => accepted.add(id));
      const perRequest = produced.requests ? produced.records / produced.requests : 0;
      const ok = (r.statuses['200'] ?? 0) + (r.statuses['202'] ?? 0);
      const bad = r.requests - ok;
      failures += bad;
      const lat = r.latenciesMs.sort((a, b) => a - b);
      const perSecond = (r.requests / r.elapsedMs) * 1000;
      rps[`${concurrency}:${t.name}`] = perSecond;
      const empty = rps[`${concurrency}:GET empty route`];
      const postEmpty = rps[`${concurrency}:POST empty route`];
      rows.push([
        String(concurrency),
        t.name,
        perSecond.toFixed(0),
        pct(lat, 50).toFixed(2),
        pct(lat, 99).toFixed(2),
        bad ? `${bad} ${JSON.stringify(r.statuses)}` : '0',
        t.collectIds ? perRequest.toFixed(1) : '',
        t.collectIds && empty
          ? `${(perSecond / empty).toFixed(2)} (${postEmpty ? (perSecond / postEmpty).toFixed(2) : '-'})`
          : '',
      ]);
    }
  }
  await batching.flush();
  await worker.terminate();

  // Every accepted ticket must be on tickets.raw.
  const endOffsets = await admin.fetchTopicOffsets(TOPICS.raw);
  await admin.disconnect();
  const expected = endOffsets.reduce(
    (n, o) =>
      n + Number(o.high) - Number(startOffsets.find((s) => s.partition === o.partition)?.high ?? 0),
    0,
  );
  const onTopic = new Set<string>();
  let read = 0;
  const consumer = kafka.consumer({
    groupId: `intake-bench-${randomBytes(4).toString('hex')}`,
    maxBytes: 50 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.raw, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        const end = endOffsets.find((o) => o.partition === batch.partition)!.high;
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= BigInt(end)) continue;
          read += 1;
          const ticketId = decodeEvent(m.value).ticketId;
          if (ticketId) onTopic.add(ticketId);
        }
        if (read >= expected) resolve();
      },
    });
  });
  for (const o of startOffsets)
    consumer.seek({ topic: TOPICS.raw, partition: o.partition, offset: o.high });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise((r) => (timer = setTimeout(r, 120_000)))]);
  clearTimeout(timer);
  await consumer.disconnect();
  const missing = [...accepted].filter((id) => !onTopic.has(id));

  let missingInPostgres: number | undefined;
  if (values.postgres) {
    const ids = [...accepted];
    const deadline = Date.now() + 120_000;
    for (;;) {
      const { rows: r } = await pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM tickets WHERE id = ANY($1::uuid[])',
        [ids],
      );
      missingInPostgres = ids.length - Number(r[0]!.n);
      if (missingInPostgres === 0 || Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 1000));
    }
  }

  await app.close();
  await batching.close();
  await Promise.all(producers.map((p) => p.disconnect()));
  await pool.end();

  const header = [
    'conc.',
    'route',
    'req/s',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'records/produce',
    'ratio vs GET empty (POST empty)',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`\nintake benchmark — ${seconds}s per cell, closed loop, keep-alive, Kafka acks=all`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log(
    `\naccepted tickets: ${accepted.size}; on tickets.raw: ${accepted.size - missing.length}; ` +
      `missing: ${missing.length}; records read: ${read}/${expected}`,
  );
  if (missingInPostgres !== undefined) console.log(`missing in Postgres: ${missingInPostgres}`);
  if (missing.length > 0 || failures > 0 || (missingInPostgres ?? 0) > 0) process.exitCode = 1;
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

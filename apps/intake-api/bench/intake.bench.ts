// Intake benchmark: POST /api/tickets at increasing concurrency, next to Fastify routes
// that do nothing, on the same server in the same run; then every accepted ticket id
// is looked up on tickets.raw (and, with --postgres, in the tickets table, stored by a
// ticket-store started in this process once the load is over).
//
//   npx tsx apps/intake-api/bench/intake.bench.ts [--seconds 3] [--concurrency 1,16,64,256] [--postgres]
//     [--only tickets] [--profile FILE.cpuprofile]
//
// --profile writes a CPU profile of the server thread over the measured cells only
// (not the start-up nor the check afterwards); open it in Chrome DevTools.
//
// The load generator (http-load.ts) is closed-loop (each connection sends its next
// request when the previous answer arrived, keep-alive), the same for every route, and
// runs in a worker thread, so that it does not share the server's event loop.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { Message } from '@mailroom/kafka';
import type { LoadJob, LoadResult } from './http-load.js';
import { startProfile } from '../../../bench/support/profile.js';

/**
 * CPU seconds used so far by this process's main thread (the server: HTTP, validation,
 * the Kafka client) and by the broker, from /proc (Linux; NaN elsewhere). Per request,
 * they are what the load on a shared machine does not distort.
 */
async function cpuCounters(brokerPid: number | undefined) {
  const ticks = (file: string): number => {
    try {
      // utime and stime: fields 14 and 15, counted after the parenthesized command name
      const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return NaN;
    }
  };
  return () => ({
    server: ticks(`/proc/self/task/${process.pid}/stat`),
    process: ticks('/proc/self/stat'),
    broker: brokerPid ? ticks(`/proc/${brokerPid}/stat`) : NaN,
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '1,16,64,256' },
      postgres: { type: 'boolean', default: false },
      /** Subset of the targets, e.g. "tickets" to profile the intake route alone. */
      only: { type: 'string' },
      profile: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const rounds = Math.max(1, Number(values.rounds));
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

  // tsx must compile the worker's module too (a loader given by --import does not reach
  // a worker's entry module on Node 20).
  const worker = new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(new URL('./http-load.ts', import.meta.url).href)}); })`,
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
  const brokerPidFile = `${process.env.MAILROOM_DATA_DIR ?? '.data'}/run/kafka.pid`;
  const brokerPid = existsSync(brokerPidFile)
    ? Number(readFileSync(brokerPidFile, 'utf8').trim())
    : undefined;
  const cpu = await cpuCounters(brokerPid);
  const profiler = values.profile ? await startProfile('the measured cells') : undefined;
  for (const concurrency of levels) {
    // The targets take turns in slices (rounds x targets), so that a change of the
    // machine's load during the cell weighs on every target alike.
    const cells = targets.map(() => ({
      requests: 0,
      elapsedMs: 0,
      statuses: new Map<string, number>(),
      latenciesMs: [] as number[],
      server: 0,
      client: 0,
      broker: 0,
      produceRequests: 0,
      produceRecords: 0,
    }));
    for (let round = 0; round < rounds; round++) {
      for (const [i, t] of targets.entries()) {
        const cell = cells[i]!;
        const producedBefore = { ...produced };
        const cpuBefore = cpu();
        const r = await load({
          url: base + t.path,
          method: t.method,
          headers: t.headers,
          body: t.body,
          concurrency,
          durationMs: (seconds * 1000) / rounds,
          collectIds: !!t.collectIds,
        });
        const cpuAfter = cpu();
        r.ids.forEach((id) => accepted.add(id));
        cell.requests += r.requests;
        cell.elapsedMs += r.elapsedMs;
        for (const [code, n] of Object.entries(r.statuses))
          cell.statuses.set(code, (cell.statuses.get(code) ?? 0) + n);
        for (const l of r.latenciesMs) cell.latenciesMs.push(l);
        cell.server += cpuAfter.server - cpuBefore.server;
        // the rest of this process: the load generator's thread (and GC helpers)
        cell.client += cpuAfter.process - cpuBefore.process - (cpuAfter.server - cpuBefore.server);
        cell.broker += cpuAfter.broker - cpuBefore.broker;
        cell.produceRequests += produced.requests - producedBefore.requests;
        cell.produceRecords += produced.records - producedBefore.records;
      }
    }
    for (const [i, t] of targets.entries()) {
      const cell = cells[i]!;
      const micros = (cpuSeconds: number) =>
        Number.isFinite(cpuSeconds) ? ((cpuSeconds / cell.requests) * 1e6).toFixed(0) : '-';
      const perRequest = cell.produceRequests ? cell.produceRecords / cell.produceRequests : 0;
      const ok = (cell.statuses.get('200') ?? 0) + (cell.statuses.get('202') ?? 0);
      const bad = cell.requests - ok;
      failures += bad;
      const lat = cell.latenciesMs.sort((a, b) => a - b);
      const perSecond = (cell.requests / cell.elapsedMs) * 1000;
      rps[`${concurrency}:${t.name}`] = perSecond;
      const empty = rps[`${concurrency}:GET empty route`];
      const postEmpty = rps[`${concurrency}:POST empty route`];
      rows.push([
        String(concurrency),
        t.name,
        perSecond.toFixed(0),
        pct(lat, 50).toFixed(2),
        pct(lat, 99).toFixed(2),
        bad ? `${bad} ${JSON.stringify(Object.fromEntries(cell.statuses))}` : '0',
        micros(cell.server),
        micros(cell.client),
        micros(cell.broker),
        t.collectIds ? perRequest.toFixed(1) : '',
        t.collectIds && empty
          ? `${(perSecond / empty).toFixed(2)} (${postEmpty ? (perSecond / postEmpty).toFixed(2) : '-'})`
          : '',
      ]);
    }
  }
  await batching.flush();
  if (profiler) await profiler.stop(values.profile!);
  await worker.terminate();

  // Every accepted ticket must be on tickets.raw.
  const endOffsets = await admin.fetchTopicOffsets(TOPICS.raw);
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

  // Every accepted ticket must reach Postgres. A ticket-store of its own stores them after
  // the load (not during it: the downstream pipeline would share the machine with the
  // measured server), its new consumer group starting at the offsets where the run began.
  let missingInPostgres: number | undefined;
  let storeSeconds = 0;
  if (values.postgres) {
    const groupId = `intake-bench-store-${randomBytes(4).toString('hex')}`;
    await admin.setOffsets({
      groupId,
      topic: TOPICS.raw,
      partitions: startOffsets.map((o) => ({ partition: o.partition, offset: o.high })),
    });
    const { start: startStore, TicketStoreConfig } = await import('@mailroom/ticket-store');
    const storeStarted = Date.now();
    const store = await startStore(
      loadConfig(TicketStoreConfig, {
        ...process.env,
        TICKET_STORE_GROUP_ID: groupId,
        TICKET_STORE_FROM_BEGINNING: 'false',
        METRICS_PORT: '0',
      }),
      { logger },
    );
    const ids = [...accepted];
    const deadline = Date.now() + 300_000;
    for (;;) {
      const { rows: r } = await pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM tickets WHERE id = ANY($1::uuid[])',
        [ids],
      );
      missingInPostgres = ids.length - Number(r[0]!.n);
      if (missingInPostgres === 0 || Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    storeSeconds = (Date.now() - storeStarted) / 1000;
    await store.stop();
  }
  await admin.disconnect();

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
    'server CPU µs/req',
    'client CPU µs/req',
    'broker CPU µs/req',
    'records/produce',
    'ratio vs GET empty (POST empty)',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(
    `\nintake benchmark — ${seconds}s per cell in ${rounds} interleaved slices, closed loop, ` +
      `keep-alive, Kafka acks=all, ${config.PRODUCER_CLIENT} producer, ` +
      `${config.PRODUCER_LANES} lane(s), linger ${config.PRODUCER_LINGER_MS} ms`,
  );
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  // Peak: the best cell of each route over the concurrency levels (each route at its own
  // best concurrency), and the best ratio measured at one concurrency.
  const peak = (name: string) => Math.max(0, ...levels.map((c) => rps[`${c}:${name}`] ?? 0));
  const tickets = peak('POST /api/tickets');
  const emptyPeak = peak('GET empty route');
  const postEmptyPeak = peak('POST empty route');
  const ratios = levels
    .filter((c) => rps[`${c}:GET empty route`] && rps[`${c}:POST /api/tickets`])
    .map((c) => ({ c, ratio: rps[`${c}:POST /api/tickets`]! / rps[`${c}:GET empty route`]! }));
  const best = ratios.sort((a, b) => b.ratio - a.ratio)[0];
  if (tickets && emptyPeak) {
    console.log(
      `\npeak: POST /api/tickets ${tickets.toFixed(0)} req/s, GET empty route ` +
        `${emptyPeak.toFixed(0)}, POST empty route ${postEmptyPeak.toFixed(0)}: ratio ` +
        `${(tickets / emptyPeak).toFixed(2)} (${postEmptyPeak ? (tickets / postEmptyPeak).toFixed(2) : '-'}); ` +
        `best ratio at one concurrency: ${best ? `${best.ratio.toFixed(2)} at ${best.c}` : '-'}`,
    );
  }
  console.log(
    `\naccepted tickets: ${accepted.size}; on tickets.raw: ${accepted.size - missing.length}; ` +
      `missing: ${missing.length}; records read: ${read}/${expected}`,
  );
  if (missingInPostgres !== undefined) {
    console.log(
      `missing in Postgres: ${missingInPostgres} (ticket-store after the load: ` +
        `${accepted.size - missingInPostgres} tickets in ${storeSeconds.toFixed(0)} s)`,
    );
  }
  if (missing.length > 0 || failures > 0 || (missingInPostgres ?? 0) > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

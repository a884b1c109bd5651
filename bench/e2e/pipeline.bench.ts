// End-to-end benchmark: the seven apps as separate processes, N tickets (REST and mail
// mixed) driven through intake → ticket-store → categorizer → router → notifier
// (GreenMail) → analytics. Reports tickets/s fully acknowledged, latency from submission
// to ticket.acknowledged, per-process CPU/RSS and consumer lag, and the bare Kafka
// produce/consume rate measured in the same run as the bus limit.
//
//   npm run bench:e2e                      max throughput, local model, 3000 tickets
//   npm run bench:e2e -- --rate 200 --n 6000   open loop at 200 tickets/s (latency), after a
//                                          10 s ramp from 0 to that rate (--warmup seconds)
//   npm run bench:e2e -- --llm             the fake Anthropic API at 300 ms per call
import { randomUUID } from 'node:crypto';
import { loadBenchEnv } from './bench-env.js';
import { parseArgs } from 'node:util';
import { ALL_TOPICS, makeEvent, encodeEvent } from '@mailroom/events';
import { ensureTopics, parseBrokers, topicSpecs } from '@mailroom/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { watchAcks } from './ack-watch.js';
import { cpuBetween, postgresPidsOf, snapshotCpu } from './cpu-account.js';
import { createPool } from '@mailroom/db';
import { measureBus } from './bus-baseline.js';
import { drive, warmupTickets } from './drive.js';
import { startSampler, summarize } from './process-sampler.js';

const { dataDir } = loadBenchEnv();

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '3000' },
    rate: { type: 'string', default: '0' },
    // Seconds of warm-up before the measured tickets (open loop only; default 10), the
    // rate rising from 0 to --rate: a pipeline started a moment ago runs cold (JIT,
    // connections, caches), and meeting the full rate cold builds a backlog first.
    warmup: { type: 'string' },
    llm: { type: 'boolean', default: false },
    mail: { type: 'string', default: '0.1' },
    bus: { type: 'string', default: '30000' },
    concurrency: { type: 'string', default: '64' },
    requesters: { type: 'string', default: '500' },
    // --env analytics:KAFKA_FETCH_MAX_WAIT_MS=1000 sets a variable for one app (repeatable).
    env: { type: 'string', multiple: true, default: [] },
  },
});
const appEnv: Record<string, Record<string, string>> = {};
for (const item of args.env) {
  const m = /^([a-z-]+):([A-Z0-9_]+)=(.*)$/.exec(item);
  if (!m) throw new Error(`--env ${item}: expected app:NAME=value`);
  (appEnv[m[1]!] ??= {})[m[2]!] = m[3]!;
}
const n = Number(args.n);
const rate = Number(args.rate);
const mailShare = Number(args.mail);
const warmupSeconds = rate > 0 ? Number(args.warmup ?? 10) : 0;
const warmup = warmupTickets(rate, warmupSeconds);

// Imported after the environment is complete (the harness reads the stack's addresses).
const { startPipeline } = await import('../../test/support/pipeline.js');
const { createMailUsers, deleteMailUsers } =
  await import('../../test/faults/support/mail-users.js');
const fake = args.llm
  ? await (
      await import('../../apps/categorizer/test/fake-anthropic-server.js')
    ).startFakeAnthropic({ latencyMs: 300 })
  : undefined;

const domain = process.env.MAIL_DOMAIN ?? 'example.test';
// Many requesters, as a helpdesk has, under the notifier's real rate limit: with a few
// requesters and the limit lifted, every chunk counted hundreds of earlier
// acknowledgements per address (work a helpdesk with a limit of 5 an hour never does).
const requesterCount = Number(args.requesters);
const requesters = Array.from(
  { length: requesterCount },
  (_, i) => `bench-${randomUUID().slice(0, 8)}-${i}@${domain}`,
);
const ackLimit = String(Math.ceil((n + warmup) / requesterCount) + 1);
// The run's own support mailbox: GreenMail scans a whole folder for every FETCH, STORE and
// SEARCH, so a support@ INBOX grown by earlier runs would make its IMAP cost per mail
// grow run after run (a real server with a processed folder keeps INBOX small).
const supportAddress = `bench-support-${randomUUID().slice(0, 8)}@${domain}`;
await createMailUsers([...requesters, supportAddress]);
{
  // Runs write tens of thousands of rows each: without VACUUM and fresh statistics (a
  // server with autovacuum off never takes them) every run would find a larger, staler
  // database than the one before and its figures would drift.
  // The CHECKPOINT writes what the VACUUM dirtied now, not during the load (a run that
  // met that checkpoint took 13.8 s at p50 instead of 0.3–1.0 s). It needs a superuser
  // or pg_checkpoint; without, the run goes on.
  const db = createPool({ url: process.env.DATABASE_URL!, max: 1 });
  await db.query('VACUUM ANALYZE');
  await db.query('CHECKPOINT').catch((err: Error) => console.warn(`no CHECKPOINT: ${err.message}`));
  await db.end();
}
const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? '127.0.0.1:19092');
// On a fresh stack the topics do not exist yet: the watcher subscribes before the apps start.
await ensureTopics(
  new Kafka({ clientId: 'bench-setup', brokers, logLevel: logLevel.ERROR }),
  topicSpecs(ALL_TOPICS, {
    KAFKA_TOPIC_PARTITIONS: Number(process.env.KAFKA_TOPIC_PARTITIONS ?? 6),
    KAFKA_REPLICATION_FACTOR: Number(process.env.KAFKA_REPLICATION_FACTOR ?? 1),
  }),
);
const acks = await watchAcks(brokers);
console.log(`starting the pipeline (7 processes)${fake ? ' with the fake LLM at 300 ms' : ''} ...`);
const pipeline = await startPipeline({
  logLevel: 'warn',
  imap: { user: supportAddress, password: supportAddress },
  env: {
    ...appEnv,
    notifier: { ACK_RATE_LIMIT_PER_HOUR: ackLimit, ...appEnv.notifier },
    ...(fake && {
      categorizer: {
        ...appEnv.categorizer,
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MAX_CONCURRENCY: '256',
      },
    }),
  },
});
const admin = new Kafka({ clientId: 'bench-lag', brokers, logLevel: logLevel.ERROR }).admin();
await admin.connect();
const sampler = startSampler(pipeline, admin);

try {
  console.log(
    `driving ${n} tickets (${Math.round(mailShare * 100)}% by mail) ${rate ? `at ${rate}/s` : 'as fast as intake takes them'}${warmup ? `, after ${warmup} to warm up (a ${warmupSeconds} s ramp)` : ''} ...`,
  );
  const pids = () => new Map([...pipeline.apps].map(([name, app]) => [name, app.pid]));
  let cpuBefore = snapshotCpu(pids(), `${dataDir}/run`);
  let selfBefore = process.cpuUsage();
  const driven = await drive({
    pipeline,
    acks,
    n,
    warmupSeconds,
    // CPU is counted for the measured tickets: from the first of them to the last ack.
    onMeasuring: () => {
      cpuBefore = snapshotCpu(pids(), `${dataDir}/run`);
      selfBefore = process.cpuUsage();
    },
    rate,
    mailShare,
    requesters,
    concurrency: Number(args.concurrency),
    supportAddress,
  });
  const cpuAfter = snapshotCpu(pids(), `${dataDir}/run`);
  const pg = createPool({ url: process.env.DATABASE_URL!, max: 1 });
  const pgPids = await postgresPidsOf((sql) => pg.query<{ pid: number; owner: string }>(sql));
  await pg.end();
  const cpu = cpuBetween(cpuBefore, cpuAfter, pgPids);
  const self = process.cpuUsage(selfBefore);
  cpu.set('bench client', (self.user + self.system) / 1e6);
  await sampler.stop();
  const handlers = await handlerFigures(pipeline);
  const lat = acks.latencies().sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  const span = (acks.lastAckAt() - acks.firstSentAt()) / 1000;
  const throughput = acks.measured() / span;
  const sample = makeEvent('raw.api_submission', {
    ticketId: randomUUID(),
    source: 'intake-api',
    payload: {
      submissionId: randomUUID(),
      title: `${pipeline.runId} b1234 The printer on floor 3 prints blank`,
      description: 'The printer on floor 3 prints blank pages since the toner change.',
      requester: { email: requesters[0]!, name: 'Bench' },
      apiKeyId: randomUUID(),
      receivedAt: new Date().toISOString(),
    },
  });
  const recordBytes = Buffer.byteLength(encodeEvent(sample, sample.id).value);
  console.log('measuring the bare Kafka produce/consume rate ...');
  const bus = await measureBus(brokers, Number(args.bus), recordBytes);
  const busRate = Math.min(bus.producePerSec, bus.consumePerSec);
  const procs = summarize(
    sampler.samples,
    driven.startedAt,
    acks.lastAckAt() || Date.now(),
    Math.max(200, rate || 500),
  );

  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  console.log(`
mode            ${rate ? `open loop ${rate}/s` : 'max throughput'}, categorizer: ${fake ? 'LLM (fake, 300 ms)' : 'local model'}
tickets         ${n} sent${warmup ? ` after ${warmup} to warm up` : ''} (${driven.rest} REST, ${driven.mail} mail in all), ${driven.refused} refused; intake accepted ${f(driven.acceptRate)}/s
acknowledged    ${acks.measured()}/${n} in ${f(span, 1)} s → ${f(throughput, 1)} tickets/s end to end
latency         submit → ticket.acknowledged: p50 ${f(q(0.5))} ms, p95 ${f(q(0.95))} ms, p99 ${f(q(0.99))} ms, max ${f(lat.at(-1) ?? NaN)} ms
bus limit       kafkajs ${bus.records} × ${bus.recordBytes} B: produce ${f(bus.producePerSec)}/s, consume ${f(bus.consumePerSec)}/s
ratio           pipeline / bus = ${f((throughput / busRate) * 100, 1)} %
`);
  const pct = (list: number[], p: number) => {
    const sorted = [...list].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  };
  const row = (name: string, list: number[]) =>
    console.log(
      `  ${name.padEnd(34)} ${String(list.length).padStart(6)} ${f(pct(list, 0.5)).padStart(8)} ${f(pct(list, 0.95)).padStart(8)} ${f(pct(list, 0.99)).padStart(8)}`,
    );
  console.log(
    `  ${'latency by channel and hop (ms)'.padEnd(34)}      n      p50      p95      p99`,
  );
  row('REST submit → acknowledged', acks.latenciesOf('rest'));
  row('mail submit → acknowledged', acks.latenciesOf('mail'));
  for (const [name, list] of acks.hops()) row(name, list);
  // By when the tickets were submitted: a start-up transient (JIT, first connections)
  // and a steady state look alike in the totals.
  const windowMs = 5_000;
  const windows = new Map<number, number[]>();
  for (const { sentAt, ms } of acks.timeline()) {
    const w = Math.floor((sentAt - driven.startedAt) / windowMs);
    let list = windows.get(w);
    if (!list) windows.set(w, (list = []));
    list.push(ms);
  }
  for (const [w, list] of [...windows].sort((a, b) => a[0] - b[0]))
    row(
      `submitted ${(w * windowMs) / 1000}–${((w + 1) * windowMs) / 1000} s${(w + 1) * windowMs <= warmupSeconds * 1000 ? ' (warm-up)' : ''}`,
      list,
    );
  console.log();
  console.log(
    'process        cpu avg %  cpu peak %  rss peak MB  max lag  lag > threshold at (s)   (lag: committed offsets vs log end)',
  );
  for (const p of procs) {
    console.log(
      `${p.app.padEnd(13)} ${f(p.cpuAvgPct).padStart(10)} ${f(p.cpuPeakPct).padStart(11)} ${f(p.rssPeakMb).padStart(12)} ${String(p.lagMax ?? '-').padStart(8)} ${p.lagOverAt === null ? '-' : f(p.lagOverAt, 1)}`,
    );
  }
  console.log(
    '\nconsumer       records  handler calls  records/call  handler busy s  ms/record (busy)',
  );
  for (const h of handlers) {
    console.log(
      `${h.app.padEnd(13)} ${String(h.records).padStart(8)} ${String(h.calls).padStart(14)} ${f(h.records / h.calls, 1).padStart(13)} ${f(h.busy, 1).padStart(15)} ${f((h.busy * 1000) / h.records, 2).padStart(17)}`,
    );
  }
  const smtp = handlers.find((h) => h.smtp)?.smtp;
  if (smtp?.mails)
    console.log(
      `notifier SMTP: ${smtp.mails} mails, ${f((smtp.seconds * 1000) / smtp.mails, 1)} ms per exchange on average (MAIL, RCPT, DATA, the message)`,
    );
  const acked = Math.max(1, acks.measured());
  const machine = cpu.get('machine') ?? 0;
  cpu.delete('machine');
  console.log(
    `\nCPU per acknowledged ticket (ms), apps and services, ${warmup ? 'from the end of the warm-up to the last acknowledgement' : 'over the whole run'}:`,
  );
  // postgres:<app> rows split the postgres row by whom its backends worked for.
  const pgShare = [...cpu].filter(([k]) => k.startsWith('postgres:'));
  for (const [k] of pgShare) cpu.delete(k);
  const accounted = [...cpu.values()].reduce((a, b) => a + b, 0);
  for (const [name, secs] of [...cpu].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${name.padEnd(13)} ${f((secs * 1000) / acked, 2).padStart(7)}`);
    if (name !== 'postgres') continue;
    for (const [k, v] of pgShare.sort((a, b) => b[1] - a[1]))
      console.log(
        `    ${k.slice('postgres:'.length).padEnd(13)} ${f((v * 1000) / acked, 2).padStart(7)}`,
      );
  }
  console.log(
    `  ${'all of these'.padEnd(13)} ${f((accounted * 1000) / acked, 2).padStart(7)}   machine ${f((machine * 1000) / acked, 2)} (the rest: the bench's own client and anything else running)`,
  );
  const first = procs
    .filter((p) => p.lagOverAt !== null)
    .sort((a, b) => a.lagOverAt! - b.lagOverAt!)[0];
  console.log(
    `\nfirst stage to fall behind: ${first ? `${first.app} (lag over threshold after ${f(first.lagOverAt!, 1)} s)` : 'none'}`,
  );
  if (acks.measured() < n) process.exitCode = 1;
} finally {
  await pipeline.stop();
  await admin.disconnect();
  await acks.stop();
  await fake?.close();
  // GreenMail keeps mail in memory: drop the bench's mailboxes.
  await deleteMailUsers([...requesters, supportAddress]);
}

/** From each consumer app's /metrics: records handled, handler calls (a call is a record
 * or a chunk) and the time spent in them — where a stage spends its time per record. */
async function handlerFigures(p: Awaited<ReturnType<typeof startPipeline>>) {
  const out: {
    app: string;
    records: number;
    calls: number;
    busy: number;
    smtp?: { mails: number; seconds: number };
  }[] = [];
  for (const app of ['ticket-store', 'categorizer', 'router', 'notifier', 'analytics'] as const) {
    const text = await (await fetch(p.url(app, '/metrics'))).text();
    const sum = (prefix: string, filter = '') =>
      text
        .split('\n')
        .filter((l) => l.startsWith(prefix) && l.includes(filter))
        .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    out.push({
      app,
      records: sum('mailroom_consumer_records_total{', 'outcome="processed"'),
      calls: sum('mailroom_consumer_processing_seconds_count'),
      busy: sum('mailroom_consumer_processing_seconds_sum'),
      ...(app === 'notifier' && {
        smtp: {
          mails: sum('mailroom_notifier_smtp_send_seconds_count'),
          seconds: sum('mailroom_notifier_smtp_send_seconds_sum'),
        },
      }),
    });
  }
  return out;
}

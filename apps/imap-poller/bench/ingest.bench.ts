// `npm run bench` (imap-poller): ingest rate of a 10,000-message mailbox next to a plain
// imapflow fetch of the same mailbox in the same run (rounds taking turns), and
// the peak RSS of a poller process while it ingests a mail with a 25 MB attachment (it
// must stream). Arguments: message count (0 skips the rate), attachment sizes in MB (0
// skips the memory run) and ingest rounds, e.g. `ingest.bench.ts 10000 25,100 3`.
// BENCH_PROFILE=DIR writes a CPU profile of this process per ingest round (from the
// poller's IMAP login to the last checkpoint), DIR/ingest-N.cpuprofile, for DevTools.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { loadConfig } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import { createLogger } from '@mailroom/observability';
import { ImapPollerConfig } from '../src/config.js';
import { start } from '../src/start.js';
import {
  appendAll,
  dovecotMailbox,
  dropMailbox,
  greenmailMailbox,
  smallMessage,
  withImap,
  type TestMailbox,
  pollerEnv,
} from '../test/support.js';
import { startProfile } from '../../../bench/support/profile.js';

const COUNT = Number(process.argv[2] ?? 10_000);
// Ingest rounds, each between two plain fetches.
const ROUNDS = Number(process.argv[4] ?? 3);
// Attachment sizes of the memory run, MB: peak RSS growth must not follow them.
const BIG_MB = (process.argv[3] ?? '25').split(',').map(Number);
const env = process.env as Record<string, string>;
const dbUrl = env.TEST_DATABASE_URL ?? env.DATABASE_URL!;
const pool = createPool({ url: dbUrl });
const logger = createLogger({
  name: 'bench',
  level: (env.BENCH_LOG_LEVEL as 'debug' | undefined) ?? 'warn',
});

let profiled = 0;

const checkpoint = async (name: string) =>
  Number(
    (
      await pool.query<{ last_uid: string }>(
        'select last_uid from imap_checkpoints where mailbox = $1',
        [name],
      )
    ).rows[0]?.last_uid ?? -1,
  );

async function until(fn: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Round {
  seconds: number;
  /** CPU µs per message: this process (the client, or the poller with its threads). */
  cpuUs: number;
  /** CPU µs per message of the stack's services and of the poller's Postgres backends. */
  services: Record<string, number>;
}

const perMessage = (cpu: NodeJS.CpuUsage) => (cpu.user + cpu.system) / COUNT;

/** Plain imapflow fetch of the source of every message; the sources when `keep`. */
async function plainFetch(box: TestMailbox, keep?: Buffer[]): Promise<Round> {
  const client = new ImapFlow({
    host: box.host,
    port: box.port,
    secure: false,
    auth: { user: box.user, pass: box.password },
    logger: false,
  });
  await client.connect();
  await client.mailboxOpen(box.folder);
  const services = cpuOf(['greenmail', 'kafka']);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let n = 0;
  for await (const m of client.fetch('1:*', { uid: true, source: true }, { uid: true })) {
    if (m.source) n++;
    if (m.source && keep) keep.push(m.source);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpuUs = perMessage(process.cpuUsage(cpu0));
  const round = { seconds, cpuUs, services: cpuSince(services) };
  await client.logout();
  if (n !== COUNT) throw new Error(`plain fetch saw ${n} of ${COUNT}`);
  return round;
}

/** CPU seconds of the poller's Postgres backends (same machine), by pid. */
async function backendCpu(): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ pid: number }>(
    `select pid from pg_stat_activity
      where application_name = 'imap-poller' and datname = current_database()`,
  );
  return new Map(rows.map((r) => [r.pid, procCpu(r.pid)]));
}

async function pollerIngest(
  box: TestMailbox,
  maxUid: number,
): Promise<Round & { total: number; flagged: number }> {
  const t0 = performance.now();
  const app = await start(
    loadConfig(ImapPollerConfig, {
      ...env,
      DATABASE_URL: dbUrl,
      ...pollerEnv(box),
      METRICS_PORT: '0',
    }),
    { logger },
  );
  await until(async () => Boolean(app.mailboxes()[0]?.connected), 60_000, 'poller connected');
  const profiler = env.BENCH_PROFILE ? await startProfile('the ingest') : undefined;
  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  const services = cpuOf(['greenmail', 'kafka']);
  const backends0 = await backendCpu();
  // The checkpoint moves only after Kafka acked a batch: at maxUid, all is produced.
  await until(async () => (await checkpoint(box.user)) >= maxUid, 600_000, 'poller ingest');
  const end = performance.now();
  const cpuUs = perMessage(process.cpuUsage(cpu0));
  await profiler?.stop(`${env.BENCH_PROFILE}/ingest-${++profiled}.cpuprofile`);
  const used = cpuSince(services);
  let postgres = 0;
  for (const [pid, cpu] of await backendCpu()) postgres += cpu - (backends0.get(pid) ?? 0);
  used.postgres = (postgres * 1e6) / COUNT;
  // \Seen comes after the checkpoint (cosmetic, once per fetch window); the worker
  // idles again once it is set.
  await until(async () => Boolean(app.mailboxes()[0]?.idling), 600_000, 'poller flagged');
  const flagged = performance.now();
  await app.stop();
  const unseen = await withImap(box, async (c) => {
    await c.mailboxOpen(box.folder);
    return ((await c.search({ seen: false }, { uid: true })) || []).length;
  });
  if (unseen !== 0) throw new Error(`${unseen} messages not flagged \\Seen after ingest`);
  return {
    seconds: (end - t1) / 1000,
    cpuUs,
    services: used,
    total: (end - t0) / 1000,
    flagged: (flagged - t1) / 1000,
  };
}

/**
 * The mailbox as it was before an ingest: no checkpoint, its raw blobs gone, no \Seen
 * flag. The next ingest does all the work the first one did, on the same mailbox.
 */
async function resetIngest(box: TestMailbox, hashes: string[]) {
  await pool.query('delete from imap_checkpoints where mailbox = $1', [box.user]);
  await pool.query('delete from blobs where sha256 = any($1::text[])', [hashes]);
  await withImap(box, async (c) => {
    await c.mailboxOpen(box.folder);
    await c.messageFlagsRemove('1:*', ['\\Seen']);
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmtServices = (s: Record<string, number>) =>
  Object.entries(s)
    .map(([k, v]) => `${k} ${v.toFixed(0)}`)
    .join(', ');

/**
 * Plain fetch and ingest take turns on the same mailbox (plain, ingest, plain, ...,
 * plain), each ingest compared with the mean of the plain fetches right before and
 * right after it: a change of the machine's load weighs on both sides of a ratio.
 */
async function throughput() {
  const box = await greenmailMailbox('bench');
  const tag = `bench${Date.now()}`;
  const t0 = performance.now();
  await appendAll(
    box,
    Array.from({ length: COUNT }, (_, i) => smallMessage(i, tag)),
  );
  console.log(`appended ${COUNT} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const sources: Buffer[] = [];
  const warm = await plainFetch(box, sources);
  const hashes = sources.map((b) => createHash('sha256').update(b).digest('hex'));
  console.log(`warm-up plain fetch (not counted): ${(COUNT / warm.seconds).toFixed(0)} msgs/s`);
  const plain: Round[] = [await plainFetch(box)];
  const ingests: (Round & { total: number; flagged: number })[] = [];
  const ratios: number[] = [];
  const seenRatios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r > 0) await resetIngest(box, hashes);
    const ingest = await pollerIngest(box, COUNT);
    const after = await plainFetch(box);
    const before = plain[plain.length - 1]!;
    plain.push(after);
    ingests.push(ingest);
    const plainRate = COUNT / ((before.seconds + after.seconds) / 2);
    const rate = COUNT / ingest.seconds;
    ratios.push(rate / plainRate);
    seenRatios.push(COUNT / ingest.flagged / plainRate);
    console.log(
      `round ${r + 1}: plain ${(COUNT / before.seconds).toFixed(0)} msgs/s, ` +
        `ingest ${rate.toFixed(0)} msgs/s (${ingest.seconds.toFixed(2)} s after IMAP login, ` +
        `${ingest.total.toFixed(2)} s with start-up; every mail \\Seen after ${ingest.flagged.toFixed(2)} s), ` +
        `plain ${(COUNT / after.seconds).toFixed(0)} msgs/s → ratio ${ratios[r]!.toFixed(2)}`,
    );
    console.log(
      `  CPU µs per message: poller process ${ingest.cpuUs.toFixed(0)} vs plain-fetch client ` +
        `${((before.cpuUs + after.cpuUs) / 2).toFixed(0)}; while ingesting ${fmtServices(ingest.services)}; ` +
        `while fetching ${fmtServices(before.services)}`,
    );
  }
  const plainRates = plain.map((p) => COUNT / p.seconds);
  const ingestRates = ingests.map((i) => COUNT / i.seconds);
  console.log(
    `plain imapflow fetch (source), ${plain.length} runs: ` +
      `${Math.min(...plainRates).toFixed(0)}–${Math.max(...plainRates).toFixed(0)} msgs/s`,
  );
  console.log(
    `imap-poller ingest (fetch, parse, blobs, produce acks=all, checkpoint), ${ingests.length} runs: ` +
      `${Math.min(...ingestRates).toFixed(0)}–${Math.max(...ingestRates).toFixed(0)} msgs/s`,
  );
  console.log(
    `CPU µs per message, medians: poller ${median(ingests.map((i) => i.cpuUs)).toFixed(0)} ` +
      `(Postgres backends ${median(ingests.map((i) => i.services.postgres!)).toFixed(0)}), ` +
      `plain-fetch client ${median(plain.map((p) => p.cpuUs)).toFixed(0)}`,
  );
  console.log(
    `ratios: ${ratios.map((x) => x.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}, ` +
      `min ${Math.min(...ratios).toFixed(2)} (target >= 0.7); with \\Seen flags: ` +
      `${seenRatios.map((x) => x.toFixed(2)).join(', ')}`,
  );
  await dropMailbox(box);
}

/** CPU seconds of a process so far (utime + stime, in ticks of 1/100 s). */
function procCpu(pid: number | string): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
/** CPU seconds of a stack service (its pid file), to see what a run costs it. */
function serviceCpu(name: string): number {
  try {
    return procCpu(
      readFileSync(`${env.MAILROOM_DATA_DIR ?? '.data'}/run/${name}.pid`, 'utf8').trim(),
    );
  } catch {
    return NaN;
  }
}
const cpuOf = (services: string[]) => Object.fromEntries(services.map((s) => [s, serviceCpu(s)]));
/** CPU µs per message of each service since `before`. */
const cpuSince = (before: Record<string, number>): Record<string, number> =>
  Object.fromEntries(
    Object.entries(before).map(([s, v]) => [s, ((serviceCpu(s) - v) * 1e6) / COUNT]),
  );

const peakRss = (pid: number) => {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return Number(m?.[1] ?? 0) * 1024;
};

/**
 * A poller process of its own ingests one mail with a `sizeMb` attachment from a Dovecot
 * folder (APPENDed: GreenMail keeps mail on its Java heap and cannot take the larger
 * sizes). Its peak RSS must not follow the attachment size.
 */
async function bigAttachment(sizeMb: number) {
  const box = await dovecotMailbox();
  const name = `${box.user}/${box.folder}`;
  const attachment = randomBytes(sizeMb * 1024 * 1024);
  const message = await new MailComposer({
    from: 'big@customer.test',
    to: 'support@example.test',
    subject: 'crash dump',
    messageId: `<${box.folder}@customer.test>`,
    text: 'The dump is attached.',
    attachments: [{ filename: 'dump.bin', content: attachment }],
  })
    .compile()
    .build();
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/imap-poller/src/main.ts'], {
    cwd: env.MAILROOM_ROOT ?? process.cwd(),
    env: {
      ...env,
      DATABASE_URL: dbUrl,
      ...pollerEnv(box),
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      IMAP_MAX_MESSAGE_BYTES: String(Math.max(50 * 1024 * 1024, message.length * 2)),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await until(async () => (await checkpoint(name)) >= 0, 60_000, 'poller connected');
    await new Promise((r) => setTimeout(r, 500));
    const before = peakRss(child.pid!);
    await withImap(box, (c) => c.append(box.folder, message));
    const t0 = performance.now();
    await until(async () => (await checkpoint(name)) >= 1, 300_000, 'big mail ingested');
    const after = peakRss(child.pid!);
    const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
    console.log(
      `${sizeMb} MB attachment (${mb(message.length)} message): ingested in ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s; poller peak RSS ${mb(before)} idle → ` +
        `${mb(after)}: +${mb(after - before)}, ${((after - before) / attachment.length).toFixed(2)}× the attachment`,
    );
  } finally {
    child.kill('SIGTERM');
    await dropMailbox(box);
  }
}

try {
  if (COUNT > 0) await throughput();
  for (const mb of BIG_MB) if (mb > 0) await bigAttachment(mb);
} finally {
  await pool.end();
}

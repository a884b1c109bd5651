// `npm run bench` (imap-poller): ingest rate of a 10,000-message mailbox next to a plain
// imapflow fetch of the same mailbox in the same run (before and after the ingest), and
// the peak RSS of a poller process while it ingests a mail with a 25 MB attachment (it
// must stream). Arguments: message count (0 skips the rate) and attachment sizes in MB,
// e.g. `ingest.bench.ts 10000 25,100`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
} from '../test/support.js';

const COUNT = Number(process.argv[2] ?? 10_000);
// Attachment sizes of the memory run, MB: peak RSS growth must not follow them.
const BIG_MB = (process.argv[3] ?? '25').split(',').map(Number);
const env = process.env as Record<string, string>;
const dbUrl = env.TEST_DATABASE_URL ?? env.DATABASE_URL!;
const pool = createPool({ url: dbUrl });
const logger = createLogger({
  name: 'bench',
  level: (env.BENCH_LOG_LEVEL as 'debug' | undefined) ?? 'warn',
});

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

async function plainFetch(box: TestMailbox): Promise<number> {
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
  }
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `  (CPU during the plain fetch: bench process ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, ${cpuSince(services)})`,
  );
  await client.logout();
  if (n !== COUNT) throw new Error(`plain fetch saw ${n} of ${COUNT}`);
  return s;
}

async function pollerIngest(
  box: TestMailbox,
  maxUid: number,
): Promise<{ total: number; connected: number; flagged: number }> {
  const t0 = performance.now();
  const app = await start(
    loadConfig(ImapPollerConfig, {
      ...env,
      DATABASE_URL: dbUrl,
      IMAP_USER: box.user,
      IMAP_PASSWORD: box.password,
      METRICS_PORT: '0',
    }),
    { logger },
  );
  await until(async () => Boolean(app.mailboxes()[0]?.connected), 60_000, 'poller connected');
  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  const services = cpuOf(['greenmail', 'kafka']);
  // The checkpoint moves only after Kafka acked a batch: at maxUid, all is produced.
  await until(async () => (await checkpoint(box.user)) >= maxUid, 600_000, 'poller ingest');
  const end = performance.now();
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `  (CPU while ingesting: bench process ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, ${cpuSince(services)})`,
  );
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
    total: (end - t0) / 1000,
    connected: (end - t1) / 1000,
    flagged: (flagged - t1) / 1000,
  };
}

async function throughput() {
  const box = await greenmailMailbox('bench');
  const tag = `bench${Date.now()}`;
  const t0 = performance.now();
  await appendAll(
    box,
    Array.from({ length: COUNT }, (_, i) => smallMessage(i, tag)),
  );
  console.log(`appended ${COUNT} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // The baseline before and after the ingest: load drifts, and neither goes first always.
  const before = await plainFetch(box);
  const ingest = await pollerIngest(box, COUNT);
  const after = await plainFetch(box);
  const plain = (before + after) / 2;
  const plainRate = COUNT / plain;
  const ingestRate = COUNT / ingest.connected;
  console.log(
    `plain imapflow fetch (source): ${plainRate.toFixed(0)} msgs/s ` +
      `(${before.toFixed(2)} s before the ingest, ${after.toFixed(2)} s after)`,
  );
  const flaggedRate = COUNT / ingest.flagged;
  console.log(
    `imap-poller ingest (fetch, parse, blobs, produce acks=all, checkpoint): ` +
      `${ingestRate.toFixed(0)} msgs/s after IMAP login (${ingest.connected.toFixed(2)} s; ` +
      `${(COUNT / ingest.total).toFixed(0)} msgs/s with process start-up, ${ingest.total.toFixed(2)} s)`,
  );
  console.log(
    `  ... and every message flagged \\Seen: ${flaggedRate.toFixed(0)} msgs/s (${ingest.flagged.toFixed(2)} s)`,
  );
  console.log(
    `ratio: ${(ingestRate / plainRate).toFixed(2)} (target >= 0.7); ` +
      `with \\Seen flags: ${(flaggedRate / plainRate).toFixed(2)}`,
  );
  await dropMailbox(box);
}

/** CPU seconds of a stack service (its pid file), to see what a run costs it. */
function serviceCpu(name: string): number {
  try {
    const pid = readFileSync(`${env.MAILROOM_DATA_DIR ?? '.data'}/run/${name}.pid`, 'utf8').trim();
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in ticks
  } catch {
    return NaN;
  }
}
const cpuOf = (services: string[]) => Object.fromEntries(services.map((s) => [s, serviceCpu(s)]));
const cpuSince = (before: Record<string, number>) =>
  Object.entries(before)
    .map(([s, v]) => `${s} ${(serviceCpu(s) - v).toFixed(2)} s`)
    .join(', ');

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
      IMAP_HOST: box.host,
      IMAP_PORT: String(box.port),
      IMAP_USER: box.user,
      IMAP_PASSWORD: box.password,
      IMAP_FOLDER: box.folder,
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
  for (const mb of BIG_MB) await bigAttachment(mb);
} finally {
  await pool.end();
}

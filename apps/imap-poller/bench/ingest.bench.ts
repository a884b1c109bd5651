// `npm run bench` (imap-poller): ingest rate of a 10,000-message mailbox next to a plain
// imapflow fetch of the same mailbox in the same run, and the peak RSS of a poller
// process while it ingests a mail with a 25 MB attachment (it must stream).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { loadConfig } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import { createLogger } from '@mailroom/observability';
import { ImapPollerConfig } from '../src/config.js';
import { start } from '../src/start.js';
import {
  appendAll,
  dropMailbox,
  greenmailMailbox,
  smallMessage,
  type TestMailbox,
} from '../test/support.js';

const COUNT = Number(process.argv[2] ?? 10_000);
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
  const t0 = performance.now();
  let n = 0;
  for await (const m of client.fetch('1:*', { uid: true, source: true }, { uid: true })) {
    if (m.source) n++;
  }
  const s = (performance.now() - t0) / 1000;
  await client.logout();
  if (n !== COUNT) throw new Error(`plain fetch saw ${n} of ${COUNT}`);
  return s;
}

async function pollerIngest(
  box: TestMailbox,
  maxUid: number,
): Promise<{ total: number; connected: number }> {
  const t0 = performance.now();
  const app = await start(
    loadConfig(ImapPollerConfig, {
      ...env,
      DATABASE_URL: dbUrl,
      IMAP_USER: box.user,
      IMAP_PASSWORD: box.password,
      METRICS_PORT: '0',
      IMAP_BATCH_SIZE: '2000',
    }),
    { logger },
  );
  await until(async () => Boolean(app.mailboxes()[0]?.connected), 60_000, 'poller connected');
  const t1 = performance.now();
  // The checkpoint moves only after Kafka acked a batch: at maxUid, all is produced.
  await until(async () => (await checkpoint(box.user)) >= maxUid, 600_000, 'poller ingest');
  const end = performance.now();
  await app.stop();
  return { total: (end - t0) / 1000, connected: (end - t1) / 1000 };
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
  const plain = await plainFetch(box);
  const ingest = await pollerIngest(box, COUNT);
  const plainRate = COUNT / plain;
  const ingestRate = COUNT / ingest.connected;
  console.log(
    `plain imapflow fetch (source): ${plainRate.toFixed(0)} msgs/s (${plain.toFixed(2)} s)`,
  );
  console.log(
    `imap-poller ingest (fetch, parse, blobs, produce acks=all, checkpoint, flag): ` +
      `${ingestRate.toFixed(0)} msgs/s after IMAP login (${ingest.connected.toFixed(2)} s; ` +
      `${(COUNT / ingest.total).toFixed(0)} msgs/s with process start-up, ${ingest.total.toFixed(2)} s)`,
  );
  console.log(`ratio: ${(ingestRate / plainRate).toFixed(2)} (target >= 0.7)`);
  await dropMailbox(box);
}

const peakRss = (pid: number) => {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return Number(m?.[1] ?? 0) * 1024;
};

async function bigAttachment() {
  const box = await greenmailMailbox('bench-big');
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/imap-poller/src/main.ts'], {
    cwd: env.MAILROOM_ROOT ?? process.cwd(),
    env: {
      ...env,
      DATABASE_URL: dbUrl,
      IMAP_USER: box.user,
      IMAP_PASSWORD: box.password,
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await until(async () => (await checkpoint(box.user)) >= 0, 60_000, 'poller connected');
    await new Promise((r) => setTimeout(r, 500));
    const before = peakRss(child.pid!);
    const smtp = nodemailer.createTransport({
      host: env.SMTP_HOST,
      port: Number(env.SMTP_PORT),
      secure: false,
    });
    const attachment = randomBytes(25 * 1024 * 1024);
    await smtp.sendMail({
      from: 'big@customer.test',
      to: box.user,
      subject: 'crash dump',
      text: 'The dump is attached.',
      attachments: [{ filename: 'dump.bin', content: attachment }],
    });
    smtp.close();
    const t0 = performance.now();
    await until(async () => (await checkpoint(box.user)) >= 1, 300_000, 'big mail ingested');
    const after = peakRss(child.pid!);
    const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
    console.log(
      `25 MB attachment (≈34 MB message): ingested in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
        `poller peak RSS ${mb(before)} idle → ${mb(after)} (+${mb(after - before)})`,
    );
  } finally {
    child.kill('SIGTERM');
    await dropMailbox(box);
  }
}

try {
  await throughput();
  await bigAttachment();
} finally {
  await pool.end();
}

// The pipeline's CPU when nothing comes in: the seven apps as separate processes (as in
// pipeline.bench.ts), Kafka, GreenMail and the run's Postgres backends, over a quiet
// window after start-up. What a stage costs per ticket at low rates is mostly this.
//
//   npx tsx bench/e2e/idle.bench.ts [--seconds 20]
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createPool } from '@mailroom/db';
import { cpuBetween, postgresPidsOf, snapshotCpu } from './cpu-account.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = process.env.MAILROOM_DATA_DIR ?? `${root}.data`;
const runtimeEnv = `${dataDir}/runtime.env`;
if (!existsSync(runtimeEnv)) throw new Error(`${runtimeEnv} missing: run npm run stack:up`);
for (const line of readFileSync(runtimeEnv, 'utf8').split('\n')) {
  const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
  if (m?.[1] && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
}
process.env.DATABASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
process.env.MAILROOM_ROOT = root;
process.env.REPLY_TOKEN_SECRET ??= 'mailroom-bench-reply-token-secret-0123456789';
process.env.TEST_LOG_LEVEL ??= 'silent';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '20' } } });
const seconds = Number(args.seconds);
const { startPipeline } = await import('../../test/support/pipeline.js');
const pipeline = await startPipeline({ logLevel: 'warn' });
try {
  await sleep(5_000); // start-up work (JIT, first metadata) out of the window
  const pids = new Map([...pipeline.apps].map(([name, app]) => [name, app.pid]));
  const before = snapshotCpu(pids, `${dataDir}/run`);
  await sleep(seconds * 1000);
  const after = snapshotCpu(pids, `${dataDir}/run`);
  const pg = createPool({ url: process.env.DATABASE_URL!, max: 1 });
  const pgPids = await postgresPidsOf((sql) => pg.query<{ pid: number; owner: string }>(sql));
  await pg.end();
  const cpu = cpuBetween(before, after, pgPids);
  console.log(`idle CPU over ${seconds} s, % of one core:`);
  const machine = cpu.get('machine') ?? 0;
  cpu.delete('machine');
  let total = 0;
  for (const [name, secs] of [...cpu].sort((a, b) => b[1] - a[1])) {
    if (!name.startsWith('postgres:')) total += secs;
    console.log(`  ${name.padEnd(22)} ${((secs / seconds) * 100).toFixed(1).padStart(6)}`);
  }
  console.log(
    `  ${'all of these'.padEnd(22)} ${((total / seconds) * 100).toFixed(1).padStart(6)}   machine ${((machine / seconds) * 100).toFixed(1)}`,
  );
} finally {
  await pipeline.stop();
}

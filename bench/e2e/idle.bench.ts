// The pipeline's CPU when nothing comes in: the seven apps as separate processes (as in
// pipeline.bench.ts), Kafka, GreenMail and the run's Postgres backends, over a quiet
// window after start-up. What a stage costs per ticket at low rates is mostly this.
//
//   npx tsx bench/e2e/idle.bench.ts [--seconds 20]
import { setTimeout as sleep } from 'node:timers/promises';
import { loadBenchEnv } from './bench-env.js';
import { parseArgs } from 'node:util';
import { createPool } from '@mailroom/db';
import { cpuBetween, postgresPidsOf, snapshotCpu } from './cpu-account.js';

const { dataDir } = loadBenchEnv();

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

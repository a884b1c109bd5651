/**
 * The local categorizer's per-ticket path as the Kafka consumer runs it — one ticket at
 * a time, both shipped models (queue + priority) and the taxonomy mapping — next to
 * the same models run as two separate passes and to the TF-IDF + LR baseline pair, all
 * measured in the same run:
 *   npx tsx libs/classifier/bench/categorize.bench.ts [--data-dir DIR] [--seconds S]
 * The paths are timed in interleaved rounds and the median round is reported, so a
 * noisy neighbour slows all of them alike. `cpu` divides by this process's CPU time
 * instead of wall time.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLocalCategorizer } from '../../../apps/categorizer/src/local/local-categorizer.js';
import { DEFAULT_TAXONOMY } from '../../../apps/categorizer/src/taxonomy.js';
import { loadDefaultModel, parseCsv, readLabeledCsv, trainBaseline } from '../src/index.js';

const { values } = parseArgs({
  options: { 'data-dir': { type: 'string' }, seconds: { type: 'string' } },
});
const dataDir =
  values['data-dir'] ?? fileURLToPath(new URL('../../../../shared/data', import.meta.url));
const roundSeconds = Number(values.seconds ?? '1');

const [header, ...rows] = parseCsv(
  await readFile(`${dataDir}/tickets/support-tickets-en.dev.csv`, 'utf8'),
);
const col = (name: string): number => header!.indexOf(name);
const tickets = rows.map((r, i) => ({
  ticketId: `t${i}`,
  subject: r[col('subject')] ?? '',
  body: r[col('body')] ?? '',
  requesterEmail: 'bench@example.test',
}));

const [queue, priority] = await Promise.all([
  loadDefaultModel('queue'),
  loadDefaultModel('priority'),
]);
const trainCsv = `${dataDir}/tickets/support-tickets-en.train.csv`;
const baselineQueue = trainBaseline(
  (await readLabeledCsv(trainCsv, ['subject', 'body'], 'queue')).examples,
);
const baselinePriority = trainBaseline(
  (await readLabeledCsv(trainCsv, ['subject', 'body'], 'priority')).examples,
);
const local = createLocalCategorizer({
  taxonomy: DEFAULT_TAXONOMY,
  departmentModel: queue,
  priorityModel: priority,
  fallbackDepartment: 'General',
});

type Path = (t: (typeof tickets)[number]) => unknown;
const paths: Record<string, Path> = {
  // What the consumer awaits per ticket: fused feature pass, both heads, mapping.
  'categorizer (queue + priority, fused)': (t) => local.categorize(t),
  // The same two models the way the categorizer used to call them: two passes.
  'same models, two separate passes': (t) => {
    const text = `${t.subject} ${t.body}`;
    queue.probabilities(text);
    priority.predict(text);
  },
  'baseline pair (word 1-2 TF-IDF + LR, queue + priority)': (t) => {
    const text = `${t.subject} ${t.body}`;
    baselineQueue.predict(text);
    baselinePriority.predict(text);
  },
};

async function round(path: Path): Promise<{ wall: number; cpu: number }> {
  let n = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < roundSeconds * 1000) {
    // Awaited one by one, as runConsumer hands over one message at a time.
    for (const t of tickets) await path(t);
    n += tickets.length;
  }
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu0);
  return { wall: n / wall, cpu: n / ((used.user + used.system) / 1e6) };
}

for (const path of Object.values(paths)) for (const t of tickets.slice(0, 300)) await path(t);
const samples: Record<string, { wall: number[]; cpu: number[] }> = {};
for (let r = 0; r < 5; r++) {
  for (const [name, path] of Object.entries(paths)) {
    const s = await round(path);
    (samples[name] ??= { wall: [], cpu: [] }).wall.push(s.wall);
    samples[name].cpu.push(s.cpu);
  }
}
const median = (xs: number[]): number => Math.round([...xs].sort((a, b) => a - b)[xs.length >> 1]!);
const results: Record<string, { ticketsPerSecond: number; perCpuSecond: number }> = {};
for (const [name, s] of Object.entries(samples)) {
  results[name] = { ticketsPerSecond: median(s.wall), perCpuSecond: median(s.cpu) };
}
console.log(JSON.stringify({ tickets: tickets.length, target: 5000, results }, null, 2));

/**
 * Throughput and training time, next to the baseline in the same run:
 *   npx tsx libs/classifier/bench/predict.bench.ts [--data-dir DIR]
 * Prediction is one text at a time, as the Kafka consumer calls it. Every figure is
 * given per wall second and per CPU second of this process (process.cpuUsage), so it
 * still means something on a machine that other work keeps busy.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  loadDefaultModel,
  readLabeledCsv,
  trainBaseline,
  trainFromExamples,
  type Classifier,
} from '../src/index.js';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } } });
const dataDir =
  values['data-dir'] ?? fileURLToPath(new URL('../../../../shared/data', import.meta.url));

interface Rate {
  perWallSecond: number;
  perCpuSecond: number;
}

function predictionsPerSecond(classifier: Classifier, texts: readonly string[]): Rate {
  for (const t of texts.slice(0, 200)) classifier.predict(t); // warm-up (JIT)
  let n = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < 2000) {
    for (const t of texts) classifier.predict(t);
    n += texts.length;
  }
  const wall = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    perWallSecond: Math.round(n / wall),
    perCpuSecond: Math.round(n / ((cpu.user + cpu.system) / 1e6)),
  };
}

interface Duration {
  wallSeconds: number;
  cpuSeconds: number;
}

function seconds(f: () => unknown): Duration {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  f();
  const cpu = process.cpuUsage(cpu0);
  const r = (x: number): number => Math.round(x * 100) / 100;
  return {
    wallSeconds: r((performance.now() - start) / 1000),
    cpuSeconds: r((cpu.user + cpu.system) / 1e6),
  };
}

const tickets = await readLabeledCsv(
  `${dataDir}/tickets/support-tickets-en.dev.csv`,
  ['subject', 'body'],
  'queue',
);
const ticketTexts = tickets.examples.map((e) => e.text);
const banking = await readLabeledCsv(
  `${dataDir}/intents/banking77/train.csv`,
  ['text'],
  'category',
);

const queueModel = await loadDefaultModel('queue');
const ticketsTrain = await readLabeledCsv(
  `${dataDir}/tickets/support-tickets-en.train.csv`,
  ['subject', 'body'],
  'queue',
);
const ticketBaseline = trainBaseline(ticketsTrain.examples);

let model: Classifier | undefined;
let hybrid: Classifier | undefined;
let baseline: Classifier | undefined;
const trainSeconds = seconds(() => (model = trainFromExamples(banking.examples).classifier));
const hybridSeconds = seconds(
  () => (hybrid = trainFromExamples(banking.examples, { learner: 'svm-mlp' }).classifier),
);
const baselineSeconds = seconds(() => (baseline = trainBaseline(banking.examples)));
const bankingTexts = banking.examples.filter((_, i) => i % 10 === 0).map((e) => e.text);

const results = {
  'tickets queue (default model), predictions/s': {
    ours: predictionsPerSecond(queueModel, ticketTexts),
    baseline: predictionsPerSecond(ticketBaseline, ticketTexts),
  },
  'banking77, predictions/s': {
    ours: predictionsPerSecond(model!, bankingTexts),
    baseline: predictionsPerSecond(baseline!, bankingTexts),
  },
  'banking77 with --learner svm-mlp, predictions/s': {
    ours: predictionsPerSecond(hybrid!, bankingTexts),
  },
  [`banking77 training seconds (${banking.examples.length} examples)`]: {
    ours: trainSeconds,
    'ours, svm-mlp': hybridSeconds,
    baseline: baselineSeconds,
  },
};
console.log(JSON.stringify(results, null, 2));

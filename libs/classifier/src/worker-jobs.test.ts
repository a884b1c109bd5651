import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLabeledCsv, type LabeledExample } from './csv.js';
import type { MlpHead } from './mlp.js';
import { encodeModel } from './model-file.js';
import { DEFAULT_FEATURES } from './presets.js';
import { BANKING_TRAIN } from './test-data.js';
import { trainFromExamples, trainFromExamplesInParallel } from './train.js';
import { fitDesign, fitMlp, fitMlpInWorker, type Design } from './train-parts.js';
import { trainMlpsInWorker } from './worker-jobs.js';

/** Same length and the same bits (NaN and -0 included), not merely close. */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  return a.length === b.length && bytes(a).equals(bytes(b));
}

function sameHead(a: MlpHead, b: MlpHead): boolean {
  return (
    sameBits(a.hidden.weights, b.hidden.weights) &&
    sameBits(a.hidden.bias, b.hidden.bias) &&
    sameBits(a.output.weights, b.output.weights) &&
    sameBits(a.output.bias, b.output.bias)
  );
}

let examples: LabeledExample[];
let labels: string[];
let design: Design;
beforeAll(async () => {
  const all = (await readLabeledCsv(BANKING_TRAIN, ['text'], 'category')).examples;
  // Every 15th row of banking77 train (667 rows): a few seconds per model.
  examples = all.filter((_, i) => i % 15 === 0);
  labels = [...new Set(examples.map((e) => e.label))].sort();
  design = fitDesign(examples, labels, DEFAULT_FEATURES);
});

describe('networks on a worker thread', () => {
  it('are bit for bit the ones trained on this thread', async () => {
    const here = fitMlp(design, { labels, seed: 5 });
    const there = await fitMlpInWorker(design, { labels, seed: 5 });
    expect(there.hidden.numClasses).toBe(128);
    expect(sameHead(there, here)).toBe(true);
    // The check can fail: another seed gives other bits.
    const other = await fitMlpInWorker(design, { labels, seed: 6 });
    expect(sameHead(other, here)).toBe(false);
  }, 120_000);

  it('reports a failure in the worker instead of hanging', async () => {
    const bad = { hidden: -1, epochs: 1, learningRate: 0.1, dropout: 0, initScale: 0.1, seed: 1 };
    await expect(trainMlpsInWorker(design.x, design.y, labels.length, [bad])).rejects.toThrow(
      /typed array length/i,
    );
  });

  it('stops the worker when aborted', async () => {
    const stop = new AbortController();
    const opts = { hidden: 64, epochs: 50, learningRate: 0.1, dropout: 0, initScale: 0.1, seed: 1 };
    const run = trainMlpsInWorker(design.x, design.y, labels.length, [opts], stop.signal);
    stop.abort(new Error('stopped by the test'));
    await expect(run).rejects.toThrow('stopped by the test');
  });
});

describe('trainFromExamplesInParallel', () => {
  it("writes the same 'svm-mlp' model file as trainFromExamples", async () => {
    const options = { seed: 7, learner: 'svm-mlp' as const, meta: { from: 'test' } };
    const parallel = await trainFromExamplesInParallel(examples, options);
    const here = trainFromExamples(examples, options);
    expect(parallel.report.refit).toBe(true);
    expect(parallel.classifier.data.mlp).toBeDefined();
    const bytes = (m: typeof here) => gunzipSync(encodeModel(m.classifier.data));
    expect(bytes(parallel).equals(bytes(here))).toBe(true);
    const { seconds: _a, ...reportParallel } = parallel.report;
    const { seconds: _b, ...reportHere } = here.report;
    expect(reportParallel).toEqual(reportHere);
  }, 120_000);
});

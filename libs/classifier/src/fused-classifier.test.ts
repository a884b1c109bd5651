import { beforeAll, describe, expect, it } from 'vitest';
import { readLabeledCsv, type LabeledExample } from './csv.js';
import { fuseClassifiers } from './fused-classifier.js';
import type { LinearClassifier } from './linear-classifier.js';
import { BASELINE_FEATURES } from './presets.js';
import { TICKETS_TRAIN } from './test-data.js';
import { trainFromExamples } from './train.js';

let queue: LinearClassifier;
let priority: LinearClassifier;
let wordsOnly: LinearClassifier;
let texts: string[];
beforeAll(async () => {
  const read = async (label: string): Promise<LabeledExample[]> =>
    (await readLabeledCsv(TICKETS_TRAIN, ['subject', 'body'], label)).examples.slice(0, 600);
  const [q, p] = await Promise.all([read('queue'), read('priority')]);
  // Fixed C and no validation split: both see the same texts, hence the same features.
  const opts = { seed: 3, c: [0.3], validation: 0 };
  queue = trainFromExamples(q, opts).classifier;
  priority = trainFromExamples(p, opts).classifier;
  wordsOnly = trainFromExamples(p, { ...opts, features: BASELINE_FEATURES }).classifier;
  texts = q.slice(0, 100).map((e) => e.text);
});

describe('fuseClassifiers', () => {
  it('serves models with the same features with one pass and the same probabilities', () => {
    const fused = fuseClassifiers([queue, priority]);
    expect(fused.passes).toBe(1);
    for (const text of texts) {
      const [q, p] = fused.probabilities(text);
      expect(Array.from(q!)).toEqual(Array.from(queue.probabilities(text)));
      expect(Array.from(p!)).toEqual(Array.from(priority.probabilities(text)));
    }
  });

  it('gives models with other features their own pass', () => {
    const fused = fuseClassifiers([queue, wordsOnly, priority]);
    expect(fused.passes).toBe(2);
    for (const text of texts.slice(0, 20)) {
      const [q, w, p] = fused.probabilities(text);
      expect(Array.from(q!)).toEqual(Array.from(queue.probabilities(text)));
      expect(Array.from(w!)).toEqual(Array.from(wordsOnly.probabilities(text)));
      expect(Array.from(p!)).toEqual(Array.from(priority.probabilities(text)));
    }
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { readLabeledCsv, type LabeledExample } from './csv.js';
import { evaluateClassifier } from './evaluate-model.js';
import { decodeModel, encodeModel } from './model-file.js';
import { LinearClassifier } from './linear-classifier.js';
import { BANKING_TRAIN } from './test-data.js';
import { trainFromExamples } from './train.js';

// Every 5th banking77 row for training and the next ones for held-out: a slice small
// enough to train in about a second, covering all 77 intents (the file is grouped).
let train: LabeledExample[];
let heldOut: LabeledExample[];
let trained: ReturnType<typeof trainFromExamples>;
const options = { seed: 7, c: [1], validation: 0.2 };
beforeAll(async () => {
  const { examples } = await readLabeledCsv(BANKING_TRAIN, ['text'], 'category');
  train = examples.filter((_, i) => i % 6 === 0);
  heldOut = examples.filter((_, i) => i % 6 === 1).slice(0, 600);
  trained = trainFromExamples(train, options);
});

describe('trainFromExamples', () => {
  it('beats the majority class on a held-out slice by a wide margin', () => {
    const { classifier, report } = trained;
    const counts = new Map<string, number>();
    for (const e of heldOut) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
    const majority = Math.max(...counts.values()) / heldOut.length;
    const ev = evaluateClassifier(classifier, heldOut);
    expect(report.labels).toHaveLength(77);
    expect(ev.accuracy).toBeGreaterThan(0.6);
    expect(ev.accuracy).toBeGreaterThan(majority + 0.4);
  });

  it('is deterministic: same data and seed give the same model bytes', () => {
    const a = trained.classifier;
    const b = trainFromExamples(train, options).classifier;
    expect(encodeModel(a.data).equals(encodeModel(b.data))).toBe(true);
  });

  it('does not depend on row order for its labels', () => {
    const { classifier } = trainFromExamples([...train].reverse(), { ...options, validation: 0 });
    expect(classifier.labels).toEqual([...new Set(train.map((e) => e.label))].sort());
  });

  it('round-trips through the model file with identical predictions', () => {
    const { classifier } = trained;
    const loaded = new LinearClassifier(decodeModel(encodeModel(classifier.data)));
    for (const e of heldOut.slice(0, 200)) {
      expect(loaded.predict(e.text)).toEqual(classifier.predict(e.text));
    }
    expect(loaded.abstainThreshold).toBe(classifier.abstainThreshold);
  });

  it('abstains below the threshold and only there', () => {
    const { classifier } = trainFromExamples(train, {
      ...options,
      abstain: { targetAccuracy: 0.95 },
    });
    const preds = heldOut.map((e) => classifier.predict(e.text));
    const t = classifier.abstainThreshold;
    expect(t).toBeGreaterThan(0);
    for (const p of preds) expect(p.abstained).toBe(p.confidence < t);
    // Abstaining keeps the confident part more accurate than the whole.
    const ev = evaluateClassifier(classifier, heldOut);
    expect(ev.abstained).toBeGreaterThan(0);
    expect(ev.accuracyNonAbstained!).toBeGreaterThan(ev.accuracy);
    expect(classifier.withAbstainThreshold(0).predict('card').abstained).toBe(false);
    expect(classifier.withAbstainThreshold(1.01).predict('card').abstained).toBe(true);
  });

  it('returns calibrated top-3 scores in descending order', () => {
    const { classifier } = trained;
    const p = classifier.predict('My card has still not arrived, when will it come?');
    expect(p.scores).toHaveLength(3);
    expect(p.scores[0]!.label).toBe(p.label);
    expect(p.scores[0]!.confidence).toBe(p.confidence);
    expect(p.scores[0]!.confidence).toBeGreaterThanOrEqual(p.scores[1]!.confidence);
    expect(p.scores[1]!.confidence).toBeGreaterThanOrEqual(p.scores[2]!.confidence);
    const probs = classifier.probabilities('top up failed');
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('rejects data with fewer than two labels', () => {
    expect(() => trainFromExamples([{ text: 'a', label: 'x' }])).toThrow(/at least 2 labels/);
  });
});

import { describe, expect, it } from 'vitest';
import { fitAbstainThreshold, fitTemperature } from './calibration.js';
import { evaluate } from './metrics.js';
import { createRng } from './rng.js';

describe('fitTemperature', () => {
  it('undoes a known overconfidence factor', () => {
    // Draw labels from softmax(z), then present scores 3× too sharp: T should be ≈ 3.
    const rand = createRng(1);
    const n = 4000;
    const k = 4;
    const scores = new Float64Array(n * k);
    const truth = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const z = Array.from({ length: k }, () => rand() * 4);
      const e = z.map(Math.exp);
      const sum = e.reduce((a, b) => a + b, 0);
      let u = rand() * sum;
      let y = 0;
      while (u > e[y]! && y < k - 1) u -= e[y++]!;
      truth[r] = y;
      z.forEach((v, c) => (scores[r * k + c] = 3 * v));
    }
    expect(fitTemperature({ scores, truth, k })).toBeCloseTo(3, 0);
  });
});

describe('fitAbstainThreshold', () => {
  const conf = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
  const correct = [true, true, true, true, false, true, false, false, false, false];

  it('drops the least confident until the rest reach the target accuracy', () => {
    const t = fitAbstainThreshold(conf, correct, { targetAccuracy: 0.8, maxAbstainRate: 1 });
    const kept = conf.map((c, i) => [c, correct[i]] as const).filter(([c]) => c >= t);
    expect(kept.filter(([, ok]) => ok).length / kept.length).toBeGreaterThanOrEqual(0.8);
    expect(kept.length).toBe(6);
  });

  it('never abstains on more than maxAbstainRate', () => {
    const t = fitAbstainThreshold(conf, correct, { targetAccuracy: 0.99, maxAbstainRate: 0.3 });
    expect(conf.filter((c) => c < t).length).toBe(3);
  });

  it('returns 0 when everything is accurate enough', () => {
    expect(fitAbstainThreshold([0.9, 0.2], [true, true])).toBe(0);
  });
});

describe('evaluate', () => {
  it('computes accuracy, macro-F1, confusion and abstain figures', () => {
    const ev = evaluate([
      { truth: 'a', predicted: 'a', abstained: false },
      { truth: 'a', predicted: 'b', abstained: true },
      { truth: 'b', predicted: 'b', abstained: false },
      { truth: 'c', predicted: 'b', abstained: false },
    ]);
    expect(ev.accuracy).toBe(0.5);
    expect(ev.perClass.a).toEqual({ precision: 1, recall: 0.5, f1: 0.6667, support: 2 });
    expect(ev.perClass.b).toEqual({ precision: 0.3333, recall: 1, f1: 0.5, support: 1 });
    expect(ev.macroF1).toBeCloseTo((2 / 3 + 0.5 + 0) / 3, 3);
    expect(ev.confusion).toEqual({
      labels: ['a', 'b', 'c'],
      matrix: [
        [1, 1, 0],
        [0, 1, 0],
        [0, 1, 0],
      ],
    });
    expect(ev.abstained).toBe(1);
    expect(ev.accuracyNonAbstained).toBeCloseTo(2 / 3, 3);
  });
});

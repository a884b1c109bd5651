import { trainBaseline } from './baseline.js';
import type { LabeledExample } from './csv.js';
import { ClassifierError } from './errors.js';
import { evaluateClassifier } from './evaluate-model.js';
import { createRng, shuffleInPlace } from './rng.js';
import { trainFromExamples, type TrainOptions } from './train.js';

export interface CvScore {
  accuracy: number;
  macroF1: number;
  /** Mean training seconds per fold. */
  seconds: number;
}

export interface CrossValidation {
  folds: number;
  n: number;
  /** One entry per candidate C, mean over folds. */
  candidates: (CvScore & { c: number })[];
  /** The TF-IDF + LR reference on the same folds. */
  baseline: CvScore;
  /** The candidate with the best accuracy + macro-F1. */
  best: number;
}

/**
 * k-fold cross-validation of fixed settings (each C of `c` with no inner validation
 * split), next to the baseline on the same folds: the way to choose a learner, C or
 * class weighting on a training file without touching its dev or test file. Folds
 * are stratified and seeded, so the figures are reproducible.
 */
export function crossValidate(
  examples: readonly LabeledExample[],
  folds: number,
  options: TrainOptions & { c: readonly number[] },
): CrossValidation {
  if (!(Number.isInteger(folds) && folds >= 2)) {
    throw new ClassifierError('OPTION_INVALID', `folds must be an integer ≥ 2, got ${folds}`);
  }
  const seed = options.seed ?? 42;
  const fold = stratifiedFolds(examples, folds, seed);
  const split = (f: number) => ({
    train: examples.filter((_, i) => fold[i] !== f),
    valid: examples.filter((_, i) => fold[i] === f),
  });
  const run = (fit: (train: readonly LabeledExample[]) => ReturnType<typeof trainBaseline>) => {
    let accuracy = 0;
    let macroF1 = 0;
    let seconds = 0;
    for (let f = 0; f < folds; f++) {
      const { train, valid } = split(f);
      const started = performance.now();
      const model = fit(train);
      seconds += (performance.now() - started) / 1000;
      const ev = evaluateClassifier(model.withAbstainThreshold(0), valid);
      accuracy += ev.accuracy;
      macroF1 += ev.macroF1;
    }
    const r = (x: number): number => Math.round((x / folds) * 1e4) / 1e4;
    return { accuracy: r(accuracy), macroF1: r(macroF1), seconds: r(seconds) };
  };
  const candidates = options.c.map((c) => ({
    c,
    ...run((train) => trainFromExamples(train, { ...options, c: [c], validation: 0 }).classifier),
  }));
  const baseline = run((train) => trainBaseline(train, seed));
  let best = 0;
  candidates.forEach((s, i) => {
    const b = candidates[best]!;
    if (s.accuracy + s.macroF1 > b.accuracy + b.macroF1) best = i;
  });
  return { folds, n: examples.length, candidates, baseline, best: candidates[best]!.c };
}

/** Fold number per example: each label dealt round-robin after a seeded shuffle. */
function stratifiedFolds(examples: readonly LabeledExample[], k: number, seed: number): Int32Array {
  const byLabel = new Map<string, number[]>();
  examples.forEach((e, i) => {
    const list = byLabel.get(e.label);
    if (list) list.push(i);
    else byLabel.set(e.label, [i]);
  });
  const rand = createRng(seed);
  const fold = new Int32Array(examples.length);
  let next = 0;
  for (const label of [...byLabel.keys()].sort()) {
    const idx = byLabel.get(label)!;
    shuffleInPlace(idx, rand);
    // Continue the rotation across labels so small classes do not all land in fold 0.
    for (const i of idx) fold[i] = next++ % k;
  }
  return fold;
}

import {
  DEFAULT_ABSTAIN_POLICY,
  fitAbstainThreshold,
  fitTemperature,
  type AbstainPolicy,
} from './calibration.js';
import type { LabeledExample } from './csv.js';
import { ClassifierError } from './errors.js';
import { evaluateClassifier } from './evaluate-model.js';
import { LinearClassifier, type ModelData } from './linear-classifier.js';
import type { Evaluation } from './metrics.js';
import { DEFAULT_FEATURES } from './presets.js';
import { stratifiedSplit } from './split.js';
import {
  combineMembers,
  extendDual,
  fitDesign,
  fitMembers,
  fitMlp,
  modelScores,
  rawScores,
  type Design,
  type Learner,
} from './train-parts.js';
import type { FeaturizerSpec } from './tfidf.js';

export interface TrainOptions {
  seed?: number;
  /**
   * Held out for choosing C and fitting the temperature and abstain threshold: a
   * fraction of the examples (stratified) or separate examples. 0 skips all three.
   */
  validation?: number | readonly LabeledExample[];
  learner?: Learner;
  /** Candidate regularization values (for the SVM in an ensemble); best on validation wins. */
  c?: readonly number[];
  features?: FeaturizerSpec;
  classWeight?: 'balanced' | 'none';
  abstain?: Partial<AbstainPolicy>;
  /** A fixed abstain threshold instead of one fit to `abstain`. */
  abstainThreshold?: number;
  /** Retrain on train + validation once C is chosen (default: when validation is a fraction). */
  refit?: boolean;
  meta?: Record<string, unknown>;
}

export interface TrainReport {
  labels: string[];
  nTrain: number;
  nValidation: number;
  learner: Learner;
  c: number;
  candidates: { c: number; accuracy: number; macroF1: number }[];
  numFeatures: number;
  temperature: number;
  abstainThreshold: number;
  refit: boolean;
  /** The chosen model on the validation split, before any refit. */
  validation: Evaluation | null;
  seconds: number;
}

const DEFAULT_C: Record<Learner, number[]> = {
  svm: [0.3, 1],
  logreg: [10],
  ensemble: [0.3, 1],
  'svm-mlp': [0.3, 1],
};

function splitFor(
  examples: readonly LabeledExample[],
  validation: number | readonly LabeledExample[],
  labels: readonly string[],
  seed: number,
): { train: readonly LabeledExample[]; valid: readonly LabeledExample[] } {
  if (typeof validation !== 'number') {
    // Validation rows with labels the model cannot output would only add noise.
    return { train: examples, valid: validation.filter((e) => labels.includes(e.label)) };
  }
  if (!(validation >= 0 && validation < 1)) {
    throw new ClassifierError('OPTION_INVALID', `validation fraction ${validation} not in [0, 1)`);
  }
  return validation > 0
    ? stratifiedSplit(examples, validation, seed)
    : { train: examples, valid: [] };
}

/**
 * Trains a classifier on any labeled texts. With a validation split it picks C from
 * the candidates by validation accuracy + macro-F1, fits the temperature and the
 * abstain threshold there, then (by default) refits on everything with that C, keeping
 * the calibration: the refit sees ~15% more data, not a different scale of scores.
 */
export function trainFromExamples(
  examples: readonly LabeledExample[],
  options: TrainOptions = {},
): { classifier: LinearClassifier; report: TrainReport } {
  const started = performance.now();
  const seed = options.seed ?? 42;
  const learner = options.learner ?? 'svm';
  const spec = options.features ?? DEFAULT_FEATURES;
  const classWeight = options.classWeight ?? 'none';
  const grid = options.c ?? DEFAULT_C[learner];
  if (grid.length === 0) throw new ClassifierError('OPTION_INVALID', 'no C candidates given');
  if (examples.length === 0) throw new ClassifierError('DATA_EMPTY', 'no training examples');
  // Sorted labels: the model does not depend on the order of the rows.
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  if (labels.length < 2) {
    throw new ClassifierError(
      'DATA_TOO_FEW_CLASSES',
      `need at least 2 labels, got ${labels.length}`,
    );
  }
  const validation = options.validation ?? 0.15;
  const { train, valid } = splitFor(examples, validation, labels, seed);
  const refit = valid.length > 0 && (options.refit ?? typeof validation === 'number');
  const fit = { labels, learner, classWeight, seed };

  const design: Design = fitDesign(train, labels, spec);
  type Best = {
    c: number;
    scales: number[];
    score: number;
    model: ModelData;
    alpha?: Float64Array;
  };
  let best: Best | null = null;
  const candidates: TrainReport['candidates'] = [];
  // Upwards, each C warm-started from the one before (the SVM's dual solution).
  const alpha = learner === 'logreg' ? undefined : new Float64Array(train.length * labels.length);
  const cs = valid.length > 0 ? [...grid].sort((a, b) => a - b) : grid.slice(0, 1);
  for (const c of cs) {
    const members = fitMembers(design, { ...fit, c }, alpha);
    // Ensemble members are scaled by their own validation temperature, so an SVM margin
    // and a log-odds count alike when they are summed.
    const scales = members.map((m) =>
      members.length > 1 && valid.length > 0
        ? 1 / fitTemperature(rawScores(design.featurizer, m, valid, labels))
        : 1,
    );
    const model = combineMembers(design, members, scales, { ...fit, c });
    const ev = valid.length > 0 ? evaluateClassifier(new LinearClassifier(model), valid) : null;
    const score = ev ? ev.accuracy + ev.macroF1 : 0;
    if (ev) candidates.push({ c, accuracy: ev.accuracy, macroF1: ev.macroF1 });
    if (!best || score > best.score) {
      best = { c, scales, score, model, ...(alpha ? { alpha: alpha.slice() } : {}) };
    }
  }
  const { c, scales } = best!;
  // The networks do not depend on C: trained once, on the same rows, after C is chosen.
  const chosen: ModelData =
    learner === 'svm-mlp' ? { ...best!.model, mlp: fitMlp(design, { ...fit, c }) } : best!.model;

  // Calibrate the chosen combination on validation.
  let temperature = 1;
  let threshold = options.abstainThreshold ?? 0;
  let validationEval: Evaluation | null = null;
  if (valid.length > 0) {
    temperature = fitTemperature(modelScores(chosen, valid, labels));
    const calibrated = new LinearClassifier({ ...chosen, temperature });
    const preds = valid.map((e) => calibrated.predict(e.text));
    if (options.abstainThreshold === undefined) {
      threshold = fitAbstainThreshold(
        preds.map((p) => p.confidence),
        preds.map((p, i) => p.label === valid[i]!.label),
        { ...DEFAULT_ABSTAIN_POLICY, ...options.abstain },
      );
    }
    validationEval = evaluateClassifier(calibrated.withAbstainThreshold(threshold), valid);
  }

  let final = chosen;
  let numFeatures = design.featurizer.numFeatures;
  if (refit) {
    const all = [...train, ...valid];
    const full = fitDesign(all, labels, spec);
    // The validation rows are appended, so the chosen solution is a start for the rest.
    const start = best!.alpha && extendDual(best!.alpha, train.length, valid.length, labels.length);
    const members = fitMembers(full, { ...fit, c }, start);
    const mlp = learner === 'svm-mlp' ? fitMlp(full, { ...fit, c }) : undefined;
    final = combineMembers(full, members, scales, { ...fit, c }, mlp);
    numFeatures = full.featurizer.numFeatures;
  }
  const data = {
    ...final,
    temperature,
    abstainThreshold: threshold,
    meta: {
      ...options.meta,
      learner,
      c,
      classWeight,
      seed,
      nTrain: refit ? train.length + valid.length : train.length,
      validation: validationEval && {
        n: validationEval.n,
        accuracy: validationEval.accuracy,
        macroF1: validationEval.macroF1,
      },
    },
  };
  return {
    classifier: new LinearClassifier(data),
    report: {
      labels,
      nTrain: train.length,
      nValidation: valid.length,
      learner,
      c,
      candidates,
      numFeatures,
      temperature,
      abstainThreshold: threshold,
      refit,
      validation: validationEval,
      seconds: Math.round((performance.now() - started) / 10) / 100,
    },
  };
}

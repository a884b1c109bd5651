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
import type { MlpHead } from './mlp.js';
import type { LinearModel } from './softmax-regression.js';
import {
  combineMembers,
  extendDual,
  fitDesign,
  fitMembers,
  fitMlp,
  fitMlpInWorker,
  modelScores,
  rawScores,
  type Design,
  type FitParams,
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

/** What a training run settles before it fits anything. */
interface Plan {
  started: number;
  options: TrainOptions;
  learner: Learner;
  spec: FeaturizerSpec;
  grid: readonly number[];
  labels: string[];
  train: readonly LabeledExample[];
  valid: readonly LabeledExample[];
  refit: boolean;
  /** Everything the fits take but C. */
  fit: Omit<FitParams, 'c'>;
}

function plan(examples: readonly LabeledExample[], options: TrainOptions): Plan {
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
  return {
    started,
    options,
    learner,
    spec,
    grid,
    labels,
    train,
    valid,
    refit,
    fit: { labels, learner, classWeight, seed },
  };
}

/** The SVM (and ensemble) side of the C chosen on validation, before any network. */
interface Choice {
  c: number;
  scales: number[];
  score: number;
  model: ModelData;
  alpha?: Float64Array;
}

function chooseC(p: Plan, design: Design): { best: Choice; candidates: TrainReport['candidates'] } {
  const { train, valid, labels, learner } = p;
  let best: Choice | null = null;
  const candidates: TrainReport['candidates'] = [];
  // Upwards, each C warm-started from the one before (the SVM's dual solution).
  const alpha = learner === 'logreg' ? undefined : new Float64Array(train.length * labels.length);
  const cs = valid.length > 0 ? [...p.grid].sort((a, b) => a - b) : p.grid.slice(0, 1);
  for (const c of cs) {
    const members = fitMembers(design, { ...p.fit, c }, alpha);
    // Ensemble members are scaled by their own validation temperature, so an SVM margin
    // and a log-odds count alike when they are summed.
    const scales = members.map((m) =>
      members.length > 1 && valid.length > 0
        ? 1 / fitTemperature(rawScores(design.featurizer, m, valid, labels))
        : 1,
    );
    const model = combineMembers(design, members, scales, { ...p.fit, c });
    const ev = valid.length > 0 ? evaluateClassifier(new LinearClassifier(model), valid) : null;
    const score = ev ? ev.accuracy + ev.macroF1 : 0;
    if (ev) candidates.push({ c, accuracy: ev.accuracy, macroF1: ev.macroF1 });
    if (!best || score > best.score) {
      best = { c, scales, score, model, ...(alpha ? { alpha: alpha.slice() } : {}) };
    }
  }
  return { best: best!, candidates };
}

interface Calibration {
  temperature: number;
  threshold: number;
  validation: Evaluation | null;
}

/** The temperature and abstain threshold of the chosen combination, fit on validation. */
function calibrate(p: Plan, chosen: ModelData): Calibration {
  const { valid, labels, options } = p;
  let temperature = 1;
  let threshold = options.abstainThreshold ?? 0;
  let validation: Evaluation | null = null;
  if (valid.length > 0) {
    temperature = fitTemperature(modelScores(chosen, valid, labels));
    const calibrated = new LinearClassifier({ ...chosen, temperature });
    const preds = valid.map((e) => calibrated.predict(e.text));
    if (options.abstainThreshold === undefined) {
      threshold = fitAbstainThreshold(
        preds.map((q) => q.confidence),
        preds.map((q, i) => q.label === valid[i]!.label),
        { ...DEFAULT_ABSTAIN_POLICY, ...options.abstain },
      );
    }
    validation = evaluateClassifier(calibrated.withAbstainThreshold(threshold), valid);
  }
  return { temperature, threshold, validation };
}

/** The refit's featurizer and matrix: train + validation rows, in that order. */
function fitFullDesign(p: Plan): Design {
  return fitDesign([...p.train, ...p.valid], p.labels, p.spec);
}

/** The chosen C's members refit on train + validation, warm-started from its solution. */
function refitMembers(p: Plan, full: Design, best: Choice): LinearModel[] {
  // The validation rows are appended, so the chosen solution is a start for the rest.
  const start =
    best.alpha && extendDual(best.alpha, p.train.length, p.valid.length, p.labels.length);
  return fitMembers(full, { ...p.fit, c: best.c }, start);
}

function finish(
  p: Plan,
  chosen: { best: Choice; candidates: TrainReport['candidates'] },
  calibration: Calibration,
  final: ModelData,
  design: Design,
): { classifier: LinearClassifier; report: TrainReport } {
  const { c } = chosen.best;
  const { temperature, threshold, validation } = calibration;
  const data = {
    ...final,
    temperature,
    abstainThreshold: threshold,
    meta: {
      ...p.options.meta,
      learner: p.learner,
      c,
      classWeight: p.fit.classWeight,
      seed: p.fit.seed,
      nTrain: p.refit ? p.train.length + p.valid.length : p.train.length,
      validation: validation && {
        n: validation.n,
        accuracy: validation.accuracy,
        macroF1: validation.macroF1,
      },
    },
  };
  return {
    classifier: new LinearClassifier(data),
    report: {
      labels: p.labels,
      nTrain: p.train.length,
      nValidation: p.valid.length,
      learner: p.learner,
      c,
      candidates: chosen.candidates,
      numFeatures: design.featurizer.numFeatures,
      temperature,
      abstainThreshold: threshold,
      refit: p.refit,
      validation,
      seconds: Math.round((performance.now() - p.started) / 10) / 100,
    },
  };
}

/**
 * Trains a classifier on any labeled texts. With a validation split it picks C from
 * the candidates by validation accuracy + macro-F1, fits the temperature and the
 * abstain threshold there, then (by default) refits on everything with that C, keeping
 * the calibration: the refit sees ~15% more data, not a different scale of scores.
 * Everything runs on the calling thread; trainFromExamplesInParallel gives the same model.
 */
export function trainFromExamples(
  examples: readonly LabeledExample[],
  options: TrainOptions = {},
): { classifier: LinearClassifier; report: TrainReport } {
  return trainHere(plan(examples, options));
}

function trainHere(p: Plan): { classifier: LinearClassifier; report: TrainReport } {
  const nets = p.learner === 'svm-mlp';
  const design = fitDesign(p.train, p.labels, p.spec);
  const chosen = chooseC(p, design);
  // The networks do not depend on C: trained once, on the same rows, after C is chosen.
  const model = nets ? { ...chosen.best.model, mlp: fitMlp(design, p.fit) } : chosen.best.model;
  const calibration = calibrate(p, model);
  if (!p.refit) return finish(p, chosen, calibration, model, design);
  const full = fitFullDesign(p);
  const members = refitMembers(p, full, chosen.best);
  const mlp = nets ? fitMlp(full, p.fit) : undefined;
  const final = combineMembers(
    full,
    members,
    chosen.best.scales,
    { ...p.fit, c: chosen.best.c },
    mlp,
  );
  return finish(p, chosen, calibration, final, full);
}

/**
 * trainFromExamples with the networks of 'svm-mlp' trained on worker threads (one for
 * the validation fit, one for the refit) while this thread fits the SVMs: the same
 * model, bit for bit, in about the SVMs' time. Other learners train as there.
 */
export async function trainFromExamplesInParallel(
  examples: readonly LabeledExample[],
  options: TrainOptions = {},
): Promise<{ classifier: LinearClassifier; report: TrainReport }> {
  const p = plan(examples, options);
  if (p.learner !== 'svm-mlp') return trainHere(p);
  const abort = new AbortController();
  const inWorker = (d: Design): Promise<MlpHead> => {
    const head = fitMlpInWorker(d, p.fit, abort.signal);
    // Handled here so that a worker failing while this thread is busy is no unhandled
    // rejection; it is still thrown where the head is awaited.
    void head.catch(() => undefined);
    return head;
  };
  try {
    const design = fitDesign(p.train, p.labels, p.spec);
    const nets = inWorker(design);
    const full = p.refit ? fitFullDesign(p) : undefined;
    const fullNets = full && inWorker(full);
    const chosen = chooseC(p, design);
    const model = { ...chosen.best.model, mlp: await nets };
    const calibration = calibrate(p, model);
    if (!full || !fullNets) return finish(p, chosen, calibration, model, design);
    const members = refitMembers(p, full, chosen.best);
    const params = { ...p.fit, c: chosen.best.c };
    const final = combineMembers(full, members, chosen.best.scales, params, await fullNets);
    return finish(p, chosen, calibration, final, full);
  } finally {
    // Stops the workers still running when this ends by an error; a no-op otherwise.
    abort.abort();
  }
}

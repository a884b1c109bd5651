import type { ScoredSet } from './calibration.js';
import type { LabeledExample } from './csv.js';
import { LinearClassifier, type ModelData } from './linear-classifier.js';
import { trainLinearSvm } from './linear-svm.js';
import { concatMlps, trainMlp, type MlpHead, type MlpOptions } from './mlp.js';
import { scoreInto, trainSoftmax, type LinearModel } from './softmax-regression.js';
import {
  Featurizer,
  fitBlocks,
  transformAll,
  type FeaturizerSpec,
  type FittedBlock,
  type SparseMatrix,
} from './tfidf.js';
import { trainMlpsInWorker } from './worker-jobs.js';

/**
 * 'ensemble' sums a one-vs-rest SVM and a multinomial logistic regression, each scaled
 * by its validation temperature. Both are linear in the same features, so the sum is
 * one linear model: the ensemble costs training time, not model size or latency.
 * 'svm-mlp' adds to the SVM's scores those of small networks over the same features
 * (see fitMlp): not linear, so it costs model size and prediction time as well.
 */
export type Learner = 'svm' | 'logreg' | 'ensemble' | 'svm-mlp';

/** The fitted featurizer and the training matrix it produced. */
export interface Design {
  featurizer: Featurizer;
  blocks: FittedBlock[];
  sublinearTf: boolean;
  x: SparseMatrix;
  y: Int32Array;
}

export interface FitParams {
  labels: string[];
  learner: Learner;
  c: number;
  classWeight: 'balanced' | 'none';
  seed: number;
}

/** What the networks depend on: not C, which they do not have. */
export type NetParams = Pick<FitParams, 'labels' | 'seed'>;

// The logistic member of an ensemble: C and epochs from cross-validation on the
// training splits; more epochs did not move validation accuracy.
const ENSEMBLE_LOGREG_C = 10;
const LOGREG_EPOCHS = 8;

// The networks of 'svm-mlp', all chosen by 5-fold cross-validation on banking77's train
// split (README): two of 64 relu units from different seeds, 4 epochs of SGD, dropout
// 0.3; their mean logits weigh 0.15 next to the SVM's margins.
const MLP_NETS = 2;
const MLP_HIDDEN = 64;
const MLP_EPOCHS = 4;
const MLP_LEARNING_RATE = 0.2;
const MLP_DROPOUT = 0.3;
const MLP_INIT_SCALE = 0.1;
const MLP_WEIGHT = 0.15;

export function fitDesign(
  examples: readonly LabeledExample[],
  labels: readonly string[],
  spec: FeaturizerSpec,
): Design {
  const texts = examples.map((e) => e.text);
  const blocks = fitBlocks(texts, spec);
  const featurizer = new Featurizer(blocks, spec.sublinearTf);
  const index = new Map(labels.map((l, i) => [l, i]));
  return {
    featurizer,
    blocks,
    sublinearTf: spec.sublinearTf,
    x: transformAll(featurizer, texts),
    y: Int32Array.from(examples.map((e) => index.get(e.label)!)),
  };
}

/**
 * The learner's member models. `alpha` (n·K, see SvmOptions) warm-starts the SVM and
 * receives its solution, so a C grid walked upwards and the refit after it start from
 * the previous solution instead of from zero.
 */
export function fitMembers(d: Design, p: FitParams, alpha?: Float64Array): LinearModel[] {
  const k = p.labels.length;
  const svm = (c: number): LinearModel =>
    trainLinearSvm(d.x, d.y, k, {
      c,
      maxPasses: 100,
      tolerance: 0.1,
      seed: p.seed,
      classWeight: p.classWeight,
      ...(alpha ? { alpha } : {}),
    });
  const logreg = (c: number): LinearModel =>
    trainSoftmax(d.x, d.y, k, {
      c,
      epochs: LOGREG_EPOCHS,
      learningRate: 0.5,
      seed: p.seed,
      classWeight: p.classWeight,
    });
  if (p.learner === 'svm' || p.learner === 'svm-mlp') return [svm(p.c)];
  if (p.learner === 'logreg') return [logreg(p.c)];
  return [svm(p.c), logreg(ENSEMBLE_LOGREG_C)];
}

/** The options of the networks of 'svm-mlp', one per network. */
function mlpNets(p: NetParams): MlpOptions[] {
  return Array.from({ length: MLP_NETS }, (_, i) => ({
    hidden: MLP_HIDDEN,
    epochs: MLP_EPOCHS,
    learningRate: MLP_LEARNING_RATE,
    dropout: MLP_DROPOUT,
    initScale: MLP_INIT_SCALE,
    seed: p.seed + 1000 * i,
  }));
}

/** The networks of 'svm-mlp' as one head, already scaled to add to the SVM's scores. */
export function fitMlp(d: Design, p: NetParams): MlpHead {
  const nets = mlpNets(p).map((opts) => trainMlp(d.x, d.y, p.labels.length, opts));
  return concatMlps(nets, MLP_WEIGHT);
}

/**
 * fitMlp on a worker thread, so the main thread can fit the SVM meanwhile. The same
 * code on the same rows and seeds: the head is bit for bit fitMlp's.
 */
export async function fitMlpInWorker(
  d: Design,
  p: NetParams,
  signal?: AbortSignal,
): Promise<MlpHead> {
  const nets = await trainMlpsInWorker(d.x, d.y, p.labels.length, mlpNets(p), signal);
  return concatMlps(nets, MLP_WEIGHT);
}

/**
 * An SVM solution for `n` rows (class-major, K classes) as the start for the same rows
 * followed by `added` new ones, which start at zero.
 */
export function extendDual(alpha: Float64Array, n: number, added: number, k: number): Float64Array {
  const out = new Float64Array((n + added) * k);
  for (let c = 0; c < k; c++) out.set(alpha.subarray(c * n, (c + 1) * n), c * (n + added));
  return out;
}

/** Σ scaleₘ · modelₘ as one linear model (temperature 1, no abstention yet). */
export function combineMembers(
  d: Design,
  members: readonly LinearModel[],
  scales: readonly number[],
  p: FitParams,
  mlp?: MlpHead,
): ModelData {
  const first = members[0]!;
  const weights = new Float32Array(first.weights.length);
  const bias = new Float32Array(first.bias.length);
  members.forEach((m, i) => {
    const s = scales[i] ?? 1;
    for (let j = 0; j < weights.length; j++) weights[j]! += s * m.weights[j]!;
    for (let j = 0; j < bias.length; j++) bias[j]! += s * m.bias[j]!;
  });
  return {
    labels: p.labels,
    sublinearTf: d.sublinearTf,
    blocks: d.blocks,
    linear: { numFeatures: first.numFeatures, numClasses: first.numClasses, weights, bias },
    ...(mlp ? { mlp } : {}),
    temperature: 1,
    abstainThreshold: 0,
    meta: {},
  };
}

/** Uncalibrated scores of `examples`, with their true class, for temperature fitting. */
export function rawScores(
  featurizer: Featurizer,
  linear: LinearModel,
  examples: readonly LabeledExample[],
  labels: readonly string[],
): ScoredSet {
  const k = labels.length;
  const index = new Map(labels.map((l, i) => [l, i]));
  const scores = new Float64Array(examples.length * k);
  const z = new Float64Array(k);
  examples.forEach((e, r) => {
    const row = featurizer.transform(e.text);
    scoreInto(linear, row.indices, row.values, 0, row.length, z);
    scores.set(z, r * k);
  });
  return { scores, truth: Int32Array.from(examples.map((e) => index.get(e.label)!)), k };
}

/** Uncalibrated scores of a whole model (network included), for temperature fitting. */
export function modelScores(
  model: ModelData,
  examples: readonly LabeledExample[],
  labels: readonly string[],
): ScoredSet {
  const k = labels.length;
  const index = new Map(labels.map((l, i) => [l, i]));
  const classifier = new LinearClassifier({ ...model, temperature: 1 });
  const scores = new Float64Array(examples.length * k);
  const z = new Float64Array(k);
  examples.forEach((e, r) => {
    classifier.rawScores(e.text, z);
    scores.set(z, r * k);
  });
  return { scores, truth: Int32Array.from(examples.map((e) => index.get(e.label)!)), k };
}

import { createRng, shuffleInPlace } from './rng.js';
import type { SparseMatrix } from './tfidf.js';

/** Weights are feature-major (F × K) so one feature's K weights sit together in memory. */
export interface LinearModel {
  numFeatures: number;
  numClasses: number;
  weights: Float32Array;
  bias: Float32Array;
}

export interface SoftmaxOptions {
  /** Inverse L2 strength, as scikit-learn's C: objective Σ lossᵢ + ‖W‖² / (2C). */
  c: number;
  epochs: number;
  /** AdaGrad base step. */
  learningRate: number;
  seed: number;
  /** 'balanced' weighs each class by n / (K · n_k), which lifts macro-F1 on rare classes. */
  classWeight: 'balanced' | 'none';
}

/** Adds bias + Σ xⱼ·W[j] into `out` (length K). */
export function scoreInto(
  model: LinearModel,
  indices: ArrayLike<number>,
  values: ArrayLike<number>,
  start: number,
  end: number,
  out: Float64Array,
): void {
  const k = model.numClasses;
  const w = model.weights;
  for (let c = 0; c < k; c++) out[c] = model.bias[c]!;
  for (let p = start; p < end; p++) {
    const v = values[p]!;
    const base = indices[p]! * k;
    for (let c = 0; c < k; c++) out[c]! += v * w[base + c]!;
  }
}

/** In-place softmax of the first K entries of `z` divided by a temperature. */
export function softmaxInPlace(z: Float64Array, k: number, temperature = 1): void {
  let max = -Infinity;
  for (let c = 0; c < k; c++) if (z[c]! > max) max = z[c]!;
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp((z[c]! - max) / temperature);
    z[c] = e;
    sum += e;
  }
  for (let c = 0; c < k; c++) z[c]! /= sum;
}

export function classWeights(
  labels: Int32Array,
  k: number,
  mode: 'balanced' | 'none',
): Float64Array {
  const w = new Float64Array(k).fill(1);
  if (mode === 'none') return w;
  const counts = new Float64Array(k);
  for (const y of labels) counts[y]!++;
  for (let c = 0; c < k; c++) w[c] = counts[c]! > 0 ? labels.length / (k * counts[c]!) : 0;
  return w;
}

/**
 * Multinomial logistic regression by AdaGrad over single examples. Per-coordinate steps
 * suit TF-IDF, where rare n-grams need larger steps than common ones. The L2 term is
 * applied lazily, to the features an example touches, scaled by 1/df so each weight
 * gets its full penalty once per epoch — exact in expectation, and O(nnz·K) per step
 * instead of O(F·K).
 */
export function trainSoftmax(
  x: SparseMatrix,
  labels: Int32Array,
  numClasses: number,
  opts: SoftmaxOptions,
): LinearModel {
  const k = numClasses;
  const f = x.numFeatures;
  const weights = new Float32Array(f * k);
  const bias = new Float32Array(k);
  const gw = new Float32Array(f * k);
  const gb = new Float64Array(k);
  const df = new Float64Array(f);
  for (const j of x.indices) df[j]!++;
  const reg = new Float64Array(f);
  for (let j = 0; j < f; j++) reg[j] = df[j]! > 0 ? 1 / (opts.c * df[j]!) : 0;
  const cw = classWeights(labels, k, opts.classWeight);
  const model: LinearModel = { numFeatures: f, numClasses: k, weights, bias };
  const order = new Int32Array(x.numRows).map((_, i) => i);
  const rand = createRng(opts.seed);
  const z = new Float64Array(k);
  const eta = opts.learningRate;
  const eps = 1e-8;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    shuffleInPlace(order, rand);
    for (const r of order) {
      const y = labels[r]!;
      const start = x.indptr[r]!;
      const end = x.indptr[r + 1]!;
      scoreInto(model, x.indices, x.values, start, end, z);
      softmaxInPlace(z, k);
      const wy = cw[y]!;
      for (let c = 0; c < k; c++) z[c] = wy * (z[c]! - (c === y ? 1 : 0));
      for (let c = 0; c < k; c++) {
        const g = z[c]!;
        gb[c]! += g * g;
        bias[c]! -= (eta * g) / (Math.sqrt(gb[c]!) + eps);
      }
      for (let p = start; p < end; p++) {
        const j = x.indices[p]!;
        const v = x.values[p]!;
        const rj = reg[j]!;
        const base = j * k;
        for (let c = 0; c < k; c++) {
          const i = base + c;
          const g = z[c]! * v + rj * weights[i]!;
          const acc = gw[i]! + g * g;
          gw[i] = acc;
          weights[i]! -= (eta * g) / (Math.sqrt(acc) + eps);
        }
      }
    }
  }
  return model;
}

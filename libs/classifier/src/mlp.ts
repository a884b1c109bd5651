import { createRng, shuffleInPlace } from './rng.js';
import type { LinearModel } from './softmax-regression.js';
import type { SparseMatrix } from './tfidf.js';

/**
 * A one-hidden-layer network over the TF-IDF features: relu(xᵀ·E + b₁) · W₂ + b₂.
 * The hidden layer is linear in the features, so it is stored as a LinearModel whose
 * "classes" are hidden units and FusedScorer computes it in the same pass (and from
 * the same per-word cache) as the SVM's scores; the rest is a small dense layer.
 */
export interface MlpHead {
  /** F × H: pre-activations of the hidden units. */
  hidden: LinearModel;
  /** H × K: the hidden units' contribution to each class score. */
  output: LinearModel;
}

export interface MlpOptions {
  hidden: number;
  epochs: number;
  /** SGD step, decayed linearly to zero over training (as fastText does). */
  learningRate: number;
  /** Probability of dropping a hidden unit during training. */
  dropout: number;
  /** Standard deviation of the initial hidden weights. */
  initScale: number;
  seed: number;
}

/** Standard normal deviate (Box–Muller) from a uniform generator. */
function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * Trains the network by plain SGD on softmax cross-entropy, one row at a time. A step
 * touches the row's features and only the hidden units that are active (relu > 0, not
 * dropped), about a third of them.
 */
export function trainMlp(
  x: SparseMatrix,
  labels: Int32Array,
  numClasses: number,
  opts: MlpOptions,
): MlpHead {
  const f = x.numFeatures;
  const h = opts.hidden;
  const k = numClasses;
  const rand = createRng(opts.seed);
  const e = new Float32Array(f * h);
  for (let i = 0; i < e.length; i++) e[i] = opts.initScale * gaussian(rand);
  const b1 = new Float32Array(h);
  const w2 = new Float32Array(h * k);
  const s2 = Math.sqrt(0.5 / h);
  for (let i = 0; i < w2.length; i++) w2[i] = s2 * gaussian(rand);
  const b2 = new Float32Array(k);
  const pre = new Float64Array(h);
  const act = new Float64Array(h);
  const on = new Int32Array(h);
  const grad = new Float64Array(h);
  const z = new Float64Array(k);
  const keep = 1 / (1 - opts.dropout);
  const order = new Int32Array(x.numRows).map((_, i) => i);
  const total = opts.epochs * x.numRows;
  let step = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    shuffleInPlace(order, rand);
    for (const r of order) {
      const lr = opts.learningRate * (1 - step / total);
      step++;
      const start = x.indptr[r]!;
      const end = x.indptr[r + 1]!;
      for (let j = 0; j < h; j++) pre[j] = b1[j]!;
      for (let p = start; p < end; p++) {
        const v = x.values[p]!;
        const base = x.indices[p]! * h;
        for (let j = 0; j < h; j++) pre[j]! += v * e[base + j]!;
      }
      // Active units: positive and not dropped.
      let nOn = 0;
      for (let j = 0; j < h; j++) {
        const kept = opts.dropout > 0 ? rand() >= opts.dropout : true;
        if (pre[j]! > 0 && kept) {
          act[j] = pre[j]! * keep;
          on[nOn++] = j;
        } else act[j] = 0;
      }
      for (let c = 0; c < k; c++) z[c] = b2[c]!;
      for (let q = 0; q < nOn; q++) {
        const j = on[q]!;
        const a = act[j]!;
        const base = j * k;
        for (let c = 0; c < k; c++) z[c]! += a * w2[base + c]!;
      }
      let max = -Infinity;
      for (let c = 0; c < k; c++) if (z[c]! > max) max = z[c]!;
      let sum = 0;
      for (let c = 0; c < k; c++) {
        z[c] = Math.exp(z[c]! - max);
        sum += z[c]!;
      }
      const y = labels[r]!;
      // z becomes dLoss/dz.
      for (let c = 0; c < k; c++) z[c] = z[c]! / sum - (c === y ? 1 : 0);
      for (let q = 0; q < nOn; q++) {
        const j = on[q]!;
        const base = j * k;
        let g = 0;
        for (let c = 0; c < k; c++) g += z[c]! * w2[base + c]!;
        grad[j] = g * keep;
        const la = lr * act[j]!;
        for (let c = 0; c < k; c++) w2[base + c]! -= la * z[c]!;
      }
      for (let c = 0; c < k; c++) b2[c]! -= lr * z[c]!;
      for (let q = 0; q < nOn; q++) b1[on[q]!]! -= lr * grad[on[q]!]!;
      for (let p = start; p < end; p++) {
        const v = lr * x.values[p]!;
        const base = x.indices[p]! * h;
        for (let q = 0; q < nOn; q++) {
          const j = on[q]!;
          e[base + j]! -= v * grad[j]!;
        }
      }
    }
  }
  return {
    hidden: { numFeatures: f, numClasses: h, weights: e, bias: b1 },
    output: { numFeatures: h, numClasses: k, weights: w2, bias: b2 },
  };
}

/**
 * Several networks (trained from different seeds) as one: hidden units side by side,
 * outputs summed, each scaled by `weight / nets` — the mean of their logits times the
 * weight they get next to the SVM's scores.
 */
export function concatMlps(nets: readonly MlpHead[], weight: number): MlpHead {
  const first = nets[0]!;
  const f = first.hidden.numFeatures;
  const k = first.output.numClasses;
  const h = nets.reduce((a, n) => a + n.hidden.numClasses, 0);
  const e = new Float32Array(f * h);
  const b1 = new Float32Array(h);
  const w2 = new Float32Array(h * k);
  const b2 = new Float32Array(k);
  const scale = weight / nets.length;
  let col = 0;
  for (const n of nets) {
    const hn = n.hidden.numClasses;
    for (let g = 0; g < f; g++) {
      for (let j = 0; j < hn; j++) e[g * h + col + j] = n.hidden.weights[g * hn + j]!;
    }
    b1.set(n.hidden.bias, col);
    for (let i = 0; i < hn * k; i++) w2[col * k + i] = scale * n.output.weights[i]!;
    for (let c = 0; c < k; c++) b2[c]! += scale * n.output.bias[c]!;
    col += hn;
  }
  return {
    hidden: { numFeatures: f, numClasses: h, weights: e, bias: b1 },
    output: { numFeatures: h, numClasses: k, weights: w2, bias: b2 },
  };
}

/** Adds the network's class scores, given its hidden pre-activations, into `z`. */
export function addMlpOutput(pre: Float64Array, output: LinearModel, z: Float64Array): void {
  const k = output.numClasses;
  const w = output.weights;
  for (let c = 0; c < k; c++) z[c]! += output.bias[c]!;
  for (let j = 0; j < pre.length; j++) {
    const a = pre[j]!;
    if (!(a > 0)) continue;
    const base = j * k;
    for (let c = 0; c < k; c++) z[c]! += a * w[base + c]!;
  }
}

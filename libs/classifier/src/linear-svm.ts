import { createRng, shuffleInPlace } from './rng.js';
import type { LinearModel } from './softmax-regression.js';
import type { SparseMatrix } from './tfidf.js';

export interface SvmOptions {
  /** Inverse L2 strength, as liblinear's C. */
  c: number;
  /** Upper bound on passes over the data per class. */
  maxPasses: number;
  /** Stop when the projected-gradient spread falls below this (liblinear's eps). */
  tolerance: number;
  seed: number;
  classWeight: 'balanced' | 'none';
  /** 'squared_hinge' (liblinear's default) or 'hinge'. */
  loss?: 'squared_hinge' | 'hinge';
}

/**
 * One-vs-rest linear SVM with squared hinge loss, solved in the dual by coordinate
 * descent (Hsieh et al. 2008, liblinear's default solver). Each step is closed-form and
 * touches one row, so a pass costs O(nnz) per class and converges in a few passes — far
 * cheaper than a full-batch primal solver. The bias is a constant feature (regularized,
 * as in liblinear).
 */
export function trainLinearSvm(
  x: SparseMatrix,
  labels: Int32Array,
  numClasses: number,
  opts: SvmOptions,
): LinearModel {
  const { indptr, indices, values, numRows: n, numFeatures: f } = x;
  const k = numClasses;
  const weights = new Float32Array(f * k);
  const bias = new Float32Array(k);
  const sqNorm = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 1; // the bias feature
    for (let p = indptr[r]!; p < indptr[r + 1]!; p++) s += values[p]! * values[p]!;
    sqNorm[r] = s;
  }
  const counts = new Float64Array(k);
  for (const y of labels) counts[y]!++;
  const rand = createRng(opts.seed);
  const order = new Int32Array(n);
  const w = new Float64Array(f);
  const alpha = new Float64Array(n);
  for (let cls = 0; cls < k; cls++) {
    w.fill(0);
    alpha.fill(0);
    let b = 0;
    // Balanced weights scale C per side so the rare positive class is not drowned out.
    const cPos =
      opts.classWeight === 'balanced' ? (opts.c * n) / (2 * Math.max(counts[cls]!, 1)) : opts.c;
    const cNeg =
      opts.classWeight === 'balanced' ? (opts.c * n) / (2 * Math.max(n - counts[cls]!, 1)) : opts.c;
    for (let i = 0; i < n; i++) order[i] = i;
    for (let pass = 0; pass < opts.maxPasses; pass++) {
      shuffleInPlace(order, rand);
      let maxPg = -Infinity;
      let minPg = Infinity;
      for (const r of order) {
        const y = labels[r] === cls ? 1 : -1;
        const hinge = opts.loss === 'hinge';
        const d = hinge ? 0 : 1 / (2 * (y > 0 ? cPos : cNeg));
        const upper = hinge ? (y > 0 ? cPos : cNeg) : Infinity;
        const start = indptr[r]!;
        const end = indptr[r + 1]!;
        let dot = b;
        for (let p = start; p < end; p++) dot += w[indices[p]!]! * values[p]!;
        const a = alpha[r]!;
        const g = y * dot - 1 + d * a;
        const pg = a === 0 ? Math.min(g, 0) : a >= upper ? Math.max(g, 0) : g;
        if (pg > maxPg) maxPg = pg;
        if (pg < minPg) minPg = pg;
        if (Math.abs(pg) < 1e-12) continue;
        const next = Math.min(Math.max(a - g / (sqNorm[r]! + d), 0), upper);
        const delta = (next - a) * y;
        alpha[r] = next;
        if (delta === 0) continue;
        for (let p = start; p < end; p++) w[indices[p]!]! += delta * values[p]!;
        b += delta;
      }
      if (maxPg - minPg < opts.tolerance) break;
    }
    for (let j = 0; j < f; j++) weights[j * k + cls] = w[j]!;
    bias[cls] = b;
  }
  return { numFeatures: f, numClasses: k, weights, bias };
}

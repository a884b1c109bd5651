import { createRng, shuffleInPlace } from './rng.js';
import type { LinearModel } from './softmax-regression.js';
import type { SparseMatrix } from './tfidf.js';

export interface SvmOptions {
  /** Inverse L2 strength, as liblinear's C. */
  c: number;
  /** Upper bound on passes over the (active) data per class. */
  maxPasses: number;
  /** Stop when the projected-gradient spread falls below this (liblinear's eps). */
  tolerance: number;
  seed: number;
  classWeight: 'balanced' | 'none';
  /** 'squared_hinge' (liblinear's default) or 'hinge'. */
  loss?: 'squared_hinge' | 'hinge';
  /**
   * Dual variables, class-major (`alpha[cls · n + row]`): read as the starting point and
   * overwritten with the solution. A solution for a smaller C, or for the same rows
   * before more were appended (zeros for the new ones), is a feasible start that is
   * already close, so a C grid or a refit on train + validation costs a few passes.
   */
  alpha?: Float64Array;
}

/**
 * One-vs-rest linear SVM with squared hinge loss, solved in the dual by coordinate
 * descent with shrinking (Hsieh et al. 2008; liblinear's default solver). Each step is
 * closed-form and touches one row. Shrinking drops a row from a class's active set once
 * its projected gradient shows it will stay at zero: in one-vs-rest most rows are easy
 * negatives, so after a few passes a class only revisits its few hundred hard rows
 * (then all rows once more, to confirm convergence). The bias
 * is a constant feature (regularized, as in liblinear).
 */
export function trainLinearSvm(
  x: SparseMatrix,
  labels: Int32Array,
  numClasses: number,
  opts: SvmOptions,
): LinearModel {
  const n = x.numRows;
  const f = x.numFeatures;
  const k = numClasses;
  const rand = createRng(opts.seed);
  // Rows in one random order, copied so that order is also the memory order: the passes
  // then visit random chunks of consecutive rows, each chunk read front to back (a few
  // percent cheaper than a row-by-row shuffle, and as random for the descent).
  const perm = new Int32Array(n).map((_, i) => i);
  shuffleInPlace(perm, rand);
  const { indptr, indices, values } = permuteRows(x, perm);
  const y = Int32Array.from(perm, (r) => labels[r]!);
  const weights = new Float32Array(f * k);
  const bias = new Float32Array(k);
  const sqNorm = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 1; // the bias feature
    for (let p = indptr[r]!; p < indptr[r + 1]!; p++) s += values[p]! * values[p]!;
    sqNorm[r] = s;
  }
  const counts = new Float64Array(k);
  for (const c of labels) counts[c]!++;
  const alphaAll = opts.alpha ?? new Float64Array(n * k);
  if (alphaAll.length !== n * k) {
    throw new RangeError(`alpha has ${alphaAll.length} entries, not ${n * k}`);
  }
  const hinge = opts.loss === 'hinge';
  const active = new Int32Array(n);
  const chunks = new Int32Array(Math.ceil(n / CHUNK));
  const alpha = new Float64Array(n);
  const w = new Float32Array(f);
  for (let cls = 0; cls < k; cls++) {
    for (let q = 0; q < n; q++) alpha[q] = alphaAll[cls * n + perm[q]!]!;
    // Balanced weights scale C per side so the rare positive class is not drowned out.
    const balanced = opts.classWeight === 'balanced';
    const cPos = balanced ? (opts.c * n) / (2 * Math.max(counts[cls]!, 1)) : opts.c;
    const cNeg = balanced ? (opts.c * n) / (2 * Math.max(n - counts[cls]!, 1)) : opts.c;
    const dPos = hinge ? 0 : 1 / (2 * cPos);
    const dNeg = hinge ? 0 : 1 / (2 * cNeg);
    const upPos = hinge ? cPos : Infinity;
    const upNeg = hinge ? cNeg : Infinity;
    // w = Σ αᵣ·yᵣ·xᵣ for a warm start (zero otherwise).
    w.fill(0);
    let b = 0;
    for (let r = 0; r < n; r++) {
      const a = alpha[r]!;
      if (a === 0) continue;
      const ya = y[r] === cls ? a : -a;
      for (let p = indptr[r]!; p < indptr[r + 1]!; p++) w[indices[p]!]! += ya * values[p]!;
      b += ya;
    }
    for (let i = 0; i < n; i++) active[i] = i;
    let size = n;
    let pgMaxOld = Infinity;
    let pgMinOld = -Infinity;
    for (let pass = 0; pass < opts.maxPasses; pass++) {
      const numChunks = Math.ceil(size / CHUNK);
      for (let c = 0; c < numChunks; c++) chunks[c] = c;
      shuffleInPlace(chunks.subarray(0, numChunks), rand);
      let pgMax = -Infinity;
      let pgMin = Infinity;
      for (let c = 0; c < numChunks; c++) {
        const from = chunks[c]! * CHUNK;
        const to = Math.min(from + CHUNK, size);
        for (let s = from; s < to; s++) {
          const r = active[s]!;
          const pos = y[r] === cls;
          const d = pos ? dPos : dNeg;
          const upper = pos ? upPos : upNeg;
          const start = indptr[r]!;
          const end = indptr[r + 1]!;
          let dot = b;
          for (let p = start; p < end; p++) dot += w[indices[p]!]! * values[p]!;
          const a = alpha[r]!;
          const g = (pos ? dot : -dot) - 1 + d * a;
          let pg = 0;
          if (a === 0) {
            // At the bound and pushed further out: skip it until the final check.
            if (g > pgMaxOld) {
              active[s] = -1;
              continue;
            }
            if (g < 0) pg = g;
          } else if (a >= upper) {
            if (g < pgMinOld) {
              active[s] = -1;
              continue;
            }
            if (g > 0) pg = g;
          } else pg = g;
          if (pg > pgMax) pgMax = pg;
          if (pg < pgMin) pgMin = pg;
          if (Math.abs(pg) < 1e-12) continue;
          const next = Math.min(Math.max(a - g / (sqNorm[r]! + d), 0), upper);
          const delta = pos ? next - a : a - next;
          alpha[r] = next;
          if (delta === 0) continue;
          for (let p = start; p < end; p++) w[indices[p]!]! += delta * values[p]!;
          b += delta;
        }
      }
      let kept = 0;
      for (let s = 0; s < size; s++) if (active[s]! >= 0) active[kept++] = active[s]!;
      size = kept;
      if (pgMax - pgMin <= opts.tolerance) {
        // Converged on the active rows: stop if that was all of them, else recheck all.
        if (size === n) break;
        for (let i = 0; i < n; i++) active[i] = i;
        size = n;
        pgMaxOld = Infinity;
        pgMinOld = -Infinity;
        continue;
      }
      pgMaxOld = pgMax <= 0 ? Infinity : pgMax;
      pgMinOld = pgMin >= 0 ? -Infinity : pgMin;
    }
    for (let j = 0; j < f; j++) weights[j * k + cls] = w[j]!;
    bias[cls] = b;
    for (let q = 0; q < n; q++) alphaAll[cls * n + perm[q]!] = alpha[q]!;
  }
  return { numFeatures: f, numClasses: k, weights, bias };
}

// Rows per chunk of the visiting order: ~200 features per row make a chunk ~100 KB.
const CHUNK = 64;

function permuteRows(x: SparseMatrix, perm: Int32Array): SparseMatrix {
  const indptr = new Int32Array(x.numRows + 1);
  const indices = new Int32Array(x.indices.length);
  const values = new Float32Array(x.values.length);
  let nnz = 0;
  for (let q = 0; q < perm.length; q++) {
    const r = perm[q]!;
    const from = x.indptr[r]!;
    const to = x.indptr[r + 1]!;
    indices.set(x.indices.subarray(from, to), nnz);
    values.set(x.values.subarray(from, to), nnz);
    nnz += to - from;
    indptr[q + 1] = nnz;
  }
  return { indptr, indices, values, numRows: x.numRows, numFeatures: x.numFeatures };
}

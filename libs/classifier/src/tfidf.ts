import { CharWbLookup, IdSink } from './char-wb-cache.js';
import { HashIndex } from './hash-index.js';
import { HashSink, emitCharWbNgrams, emitWordNgrams, emitWordPairs } from './ngram-hash.js';

/** One TF-IDF block (word n-grams, char_wb n-grams or word skip-pairs), L2-normalized on its own. */
export interface BlockSpec {
  kind: 'word' | 'char_wb' | 'word_pairs';
  minN: number;
  maxN: number;
  /** Scale of the block after normalization, so word and char evidence can be balanced. */
  weight: number;
  /** Terms in fewer documents are dropped (noise, and most of the model size). */
  minDf: number;
  /** Keep at most this many terms, the most frequent first. */
  maxFeatures: number;
}

export interface FeaturizerSpec {
  blocks: BlockSpec[];
  sublinearTf: boolean;
}

/** A fitted block: its vocabulary (hashes) and their idf, in feature order. */
export interface FittedBlock {
  spec: BlockSpec;
  hashes: Uint32Array;
  idf: Float32Array;
}

/** A sparse row; `length` entries of `indices`/`values` are valid. */
export interface SparseRow {
  indices: Int32Array;
  values: Float64Array;
  length: number;
}

function emit(spec: BlockSpec, lower: string, sink: HashSink): void {
  sink.clear();
  if (spec.kind === 'word') emitWordNgrams(lower, spec.minN, spec.maxN, sink);
  else if (spec.kind === 'char_wb') emitCharWbNgrams(lower, spec.minN, spec.maxN, sink);
  else emitWordPairs(lower, spec.maxN, sink);
}

/**
 * Learns each block's vocabulary and idf from the training texts: document frequency
 * per hash, prune by minDf and maxFeatures, smooth idf as scikit-learn does.
 */
export function fitBlocks(texts: readonly string[], spec: FeaturizerSpec): FittedBlock[] {
  const sink = new HashSink();
  const n = texts.length;
  return spec.blocks.map((block) => {
    const df = new Map<number, number>();
    for (const text of texts) {
      emit(block, text.toLowerCase(), sink);
      const hs = sink.buf.subarray(0, sink.length).sort();
      for (let i = 0; i < hs.length; i++) {
        const h = hs[i]!;
        if (i > 0 && hs[i - 1] === h) continue;
        df.set(h, (df.get(h) ?? 0) + 1);
      }
    }
    const kept: [number, number][] = [];
    for (const [h, d] of df) if (d >= block.minDf) kept.push([h, d]);
    // Deterministic order: most frequent first, ties by hash.
    kept.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    if (kept.length > block.maxFeatures) kept.length = block.maxFeatures;
    const hashes = new Uint32Array(kept.length);
    const idf = new Float32Array(kept.length);
    kept.forEach(([h, d], i) => {
      hashes[i] = h;
      idf[i] = Math.log((1 + n) / (1 + d)) + 1;
    });
    return { spec: block, hashes, idf };
  });
}

/**
 * Turns text into a TF-IDF row. Built once per model and reused for every prediction:
 * the scratch buffers make a prediction allocation-free apart from toLowerCase.
 */
export class Featurizer {
  readonly numFeatures: number;
  private readonly indexes: HashIndex[];
  private readonly offsets: number[];
  // Term counts of the current text; Uint16 keeps the array small enough to stay cached.
  private readonly counts: Uint16Array;
  private readonly sink = new HashSink();
  private readonly ids = new IdSink();
  private readonly charWb: (CharWbLookup | null)[];
  private readonly row: SparseRow;
  private readonly idf: Float32Array;
  private readonly idfStride: number;

  /**
   * `idf` optionally places feature g's idf at `idf.values[g * idf.stride]`: a scorer
   * that keeps each feature's idf next to its weights pays one cache miss per feature
   * instead of two (see FusedScorer). By default the blocks' idf are concatenated.
   */
  constructor(
    readonly blocks: readonly FittedBlock[],
    readonly sublinearTf: boolean,
    idf?: { values: Float32Array; stride: number },
  ) {
    this.indexes = blocks.map((b) => new HashIndex(b.hashes));
    this.charWb = blocks.map((b, i) =>
      b.spec.kind === 'char_wb'
        ? new CharWbLookup(this.indexes[i]!, b.spec.minN, b.spec.maxN)
        : null,
    );
    this.offsets = [];
    let total = 0;
    for (const b of blocks) {
      this.offsets.push(total);
      total += b.hashes.length;
    }
    this.numFeatures = total;
    this.counts = new Uint16Array(total);
    this.row = { indices: new Int32Array(1024), values: new Float64Array(1024), length: 0 };
    if (idf) {
      this.idf = idf.values;
      this.idfStride = idf.stride;
    } else {
      this.idf = new Float32Array(total);
      blocks.forEach((b, i) => this.idf.set(b.idf, this.offsets[i]));
      this.idfStride = 1;
    }
  }

  /** The row for `text`. The returned object is reused by the next call. */
  transform(text: string): SparseRow {
    const lower = text.toLowerCase();
    const row = this.row;
    const counts = this.counts;
    const idf = this.idf;
    const stride = this.idfStride;
    row.length = 0;
    for (let b = 0; b < this.blocks.length; b++) {
      const block = this.blocks[b]!;
      const index = this.indexes[b]!;
      const offset = this.offsets[b]!;
      const ids = this.ids;
      ids.length = 0;
      const charWb = this.charWb[b];
      if (charWb) charWb.collect(lower, ids);
      else {
        emit(block.spec, lower, this.sink);
        const hs = this.sink.buf;
        for (let i = 0; i < this.sink.length; i++) {
          const f = index.get(hs[i]!);
          if (f >= 0) ids.push(f);
        }
      }
      const start = row.length;
      for (let i = 0; i < ids.length; i++) {
        const g = offset + ids.buf[i]!;
        const c = counts[g]!;
        if (c === 0) this.push(g);
        if (c < 0xffff) counts[g] = c + 1;
      }
      let norm = 0;
      for (let i = start; i < row.length; i++) {
        const g = row.indices[i]!;
        const c = counts[g]!;
        counts[g] = 0;
        // c is mostly 1, and 1 + log(1) is exactly 1: skip the log.
        const v = (c === 1 ? 1 : this.sublinearTf ? 1 + Math.log(c) : c) * idf[g * stride]!;
        row.values[i] = v;
        norm += v * v;
      }
      if (norm > 0) {
        const scale = block.spec.weight / Math.sqrt(norm);
        for (let i = start; i < row.length; i++) row.values[i]! *= scale;
      }
    }
    return row;
  }

  private push(g: number): void {
    const row = this.row;
    if (row.length === row.indices.length) {
      const indices = new Int32Array(row.length * 2);
      indices.set(row.indices);
      const values = new Float64Array(row.length * 2);
      values.set(row.values);
      row.indices = indices;
      row.values = values;
    }
    row.indices[row.length++] = g;
  }
}

/** Rows in CSR form, the layout the trainer streams over. */
export interface SparseMatrix {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
  numRows: number;
  numFeatures: number;
}

export function transformAll(featurizer: Featurizer, texts: readonly string[]): SparseMatrix {
  const indptr = new Int32Array(texts.length + 1);
  let indices = new Int32Array(texts.length * 64);
  let values = new Float32Array(texts.length * 64);
  let nnz = 0;
  texts.forEach((text, r) => {
    const row = featurizer.transform(text);
    if (nnz + row.length > indices.length) {
      const cap = Math.max(indices.length * 2, nnz + row.length);
      const ni = new Int32Array(cap);
      ni.set(indices.subarray(0, nnz));
      const nv = new Float32Array(cap);
      nv.set(values.subarray(0, nnz));
      indices = ni;
      values = nv;
    }
    indices.set(row.indices.subarray(0, row.length), nnz);
    values.set(row.values.subarray(0, row.length), nnz);
    nnz += row.length;
    indptr[r + 1] = nnz;
  });
  return {
    indptr,
    indices: indices.slice(0, nnz),
    values: values.slice(0, nnz),
    numRows: texts.length,
    numFeatures: featurizer.numFeatures,
  };
}

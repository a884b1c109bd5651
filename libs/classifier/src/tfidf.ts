import { CharWbLookup, IdSink } from './char-wb-cache.js';
import { DistinctWords } from './distinct-words.js';
import { HashIndex } from './hash-index.js';
import {
  HashSink,
  emitCharWbNgrams,
  emitTokens,
  emitWordNgrams,
  emitWordPairs,
  wordNgramsOf,
  wordPairsOf,
} from './ngram-hash.js';

/**
 * One feature block, L2-normalized on its own:
 * - `word`: word n-grams (minN..maxN), TF-IDF.
 * - `word_pairs`: ordered word pairs up to maxN positions apart, TF-IDF.
 * - `char_wb`: character n-grams inside whitespace-separated words, TF-IDF.
 * - `char_words`: the same n-grams, weighed word by word: each distinct word w of a text
 *   is its own TF-IDF vector u(w) over its n-grams, the block is Σ s(w)·u(w) with s(w)
 *   the word's (sublinear) count, normalized as if the words were orthogonal,
 *   by √Σ s(w)²·‖u(w)‖². A word then always contributes the same direction, so a
 *   scorer can cache a word's contribution to every class (see WordScorer) instead of
 *   looking up its ~15 n-grams: on tickets of ~80 words that was most of a prediction.
 *   As accurate as `char_wb` in cross-validation on the ticket and banking77 sets.
 */
export interface BlockSpec {
  kind: 'word' | 'char_wb' | 'char_words' | 'word_pairs';
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
  else if (spec.kind === 'word_pairs') emitWordPairs(lower, spec.maxN, sink);
  else emitCharWbNgrams(lower, spec.minN, spec.maxN, sink);
}

/** Term frequency as the spec weighs it: 1 + log c when sublinear (1 stays exactly 1). */
export function termWeight(c: number, sublinear: boolean): number {
  return c === 1 ? 1 : sublinear ? 1 + Math.log(c) : c;
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

export interface FeaturizerOptions {
  /**
   * Places feature g's idf at `idf.values[g * idf.stride]`: a scorer that keeps each
   * feature's idf next to its weights pays one cache miss per feature instead of two
   * (see FusedScorer). By default the blocks' idf are concatenated.
   */
  idf?: { values: Float32Array; stride: number };
  /** Leave `char_words` blocks out of the row: a WordScorer scores them instead. */
  skipCharWords?: boolean;
}

/**
 * Turns text into a TF-IDF row. Built once per model and reused for every prediction:
 * the scratch buffers make a prediction allocation-free apart from toLowerCase.
 */
export class Featurizer {
  readonly numFeatures: number;
  /** Offset of each block's features in the row. */
  readonly offsets: number[];
  readonly indexes: HashIndex[];
  /** Per block: the n-gram lookup of `char_wb` and `char_words` blocks, else null. */
  readonly charLookups: (CharWbLookup | null)[];
  /** The last text transformed, lower-cased, and its distinct words (for WordScorer). */
  text = '';
  readonly words = new DistinctWords();
  private readonly skipCharWords: boolean;
  private readonly needsTokens: boolean;
  private readonly needsWords: boolean;
  // Term counts of the current text; Uint16 keeps the array small enough to stay cached.
  private readonly counts: Uint16Array;
  // Summed values of `char_words` features (they are not counts).
  private readonly sums: Float64Array;
  private readonly tokens = new HashSink();
  private readonly sink = new HashSink();
  private readonly ids = new IdSink();
  private readonly row: SparseRow;
  private readonly idf: Float32Array;
  private readonly idfStride: number;

  constructor(
    readonly blocks: readonly FittedBlock[],
    readonly sublinearTf: boolean,
    options: FeaturizerOptions = {},
  ) {
    this.indexes = blocks.map((b) => new HashIndex(b.hashes));
    this.charLookups = blocks.map((b, i) =>
      b.spec.kind === 'char_wb' || b.spec.kind === 'char_words'
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
    this.skipCharWords = options.skipCharWords ?? false;
    const kinds = new Set(blocks.map((b) => b.spec.kind));
    this.needsTokens = kinds.has('word') || kinds.has('word_pairs');
    this.needsWords = kinds.has('char_words');
    this.counts = new Uint16Array(total);
    this.sums = new Float64Array(this.needsWords && !this.skipCharWords ? total : 0);
    this.row = { indices: new Int32Array(1024), values: new Float64Array(1024), length: 0 };
    if (options.idf) {
      this.idf = options.idf.values;
      this.idfStride = options.idf.stride;
    } else {
      this.idf = new Float32Array(total);
      blocks.forEach((b, i) => this.idf.set(b.idf, this.offsets[i]));
      this.idfStride = 1;
    }
  }

  /**
   * The row for `text`. The returned object is reused by the next call. Also leaves
   * the text's distinct words in `words` when a block needs them.
   */
  transform(text: string): SparseRow {
    const lower = text.toLowerCase();
    this.text = lower;
    const row = this.row;
    row.length = 0;
    const tokens = this.tokens;
    if (this.needsTokens) {
      tokens.clear();
      emitTokens(lower, tokens);
    }
    if (this.needsWords) this.words.collect(lower);
    for (let b = 0; b < this.blocks.length; b++) {
      const spec = this.blocks[b]!.spec;
      if (spec.kind === 'char_words') {
        if (!this.skipCharWords) this.charWords(b, lower);
        continue;
      }
      const ids = this.ids;
      ids.length = 0;
      const lookup = this.charLookups[b];
      if (lookup) lookup.collect(lower, ids);
      else {
        const sink = this.sink;
        sink.clear();
        if (spec.kind === 'word')
          wordNgramsOf(tokens.buf, tokens.length, spec.minN, spec.maxN, sink);
        else wordPairsOf(tokens.buf, tokens.length, spec.maxN, sink);
        const index = this.indexes[b]!;
        const hs = sink.buf;
        for (let i = 0; i < sink.length; i++) {
          const f = index.get(hs[i]!);
          if (f >= 0) ids.push(f);
        }
      }
      this.countedBlock(b, ids);
    }
    return row;
  }

  // TF-IDF of one block's feature ids (with repeats), appended to the row and normalized.
  private countedBlock(b: number, ids: IdSink): void {
    const row = this.row;
    const counts = this.counts;
    const idf = this.idf;
    const stride = this.idfStride;
    const offset = this.offsets[b]!;
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
      const v = termWeight(c, this.sublinearTf) * idf[g * stride]!;
      row.values[i] = v;
      norm += v * v;
    }
    this.scale(start, norm, this.blocks[b]!.spec.weight);
  }

  // A `char_words` block: Σ s(w)·u(w) over the distinct words, see BlockSpec.
  private charWords(b: number, lower: string): void {
    const row = this.row;
    const counts = this.counts;
    const sums = this.sums;
    const idf = this.idf;
    const stride = this.idfStride;
    const offset = this.offsets[b]!;
    const lookup = this.charLookups[b]!;
    const words = this.words;
    const ids = this.ids;
    const start = row.length;
    let norm = 0;
    for (let w = 0; w < words.count; w++) {
      ids.length = 0;
      lookup.word(lower, words.start[w]!, words.end[w]!, words.hash[w]!, ids);
      const s = termWeight(words.occurrences[w]!, this.sublinearTf);
      // Within the word, n-grams are counted (a repeated n-gram as in "banana").
      for (let i = 0; i < ids.length; i++) counts[offset + ids.buf[i]!]!++;
      let q = 0;
      for (let i = 0; i < ids.length; i++) {
        const g = offset + ids.buf[i]!;
        const c = counts[g]!;
        if (c === 0) continue; // a repeat, already taken
        counts[g] = 0;
        const v = termWeight(c, this.sublinearTf) * idf[g * stride]!;
        q += v * v;
        if (sums[g] === 0) this.push(g);
        sums[g]! += s * v;
      }
      norm += s * s * q;
    }
    for (let i = start; i < row.length; i++) {
      const g = row.indices[i]!;
      row.values[i] = sums[g]!;
      sums[g] = 0;
    }
    this.scale(start, norm, this.blocks[b]!.spec.weight);
  }

  private scale(start: number, squaredNorm: number, weight: number): void {
    if (squaredNorm <= 0) return;
    const row = this.row;
    const scale = weight / Math.sqrt(squaredNorm);
    for (let i = start; i < row.length; i++) row.values[i]! *= scale;
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

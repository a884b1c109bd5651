import type { LinearModel } from './softmax-regression.js';
import { Featurizer, type FittedBlock } from './tfidf.js';
import { WordScorer } from './word-scorer.js';

/**
 * One or more linear heads (e.g. the queue and the priority model) over one TF-IDF
 * featurization, laid out for prediction. Per feature the table holds its idf and then
 * every head's weights side by side, so a text is tokenized and hashed once and each of
 * its distinct word n-grams and pairs (~400 in a ticket) costs one memory fetch for all
 * heads: with a few MB of weights that cannot stay in cache, fetches — not arithmetic —
 * are what a prediction costs. `char_words` blocks are scored a word at a time from a
 * cache instead (WordScorer). Built once at load; a call allocates nothing apart from
 * toLowerCase.
 */
export class FusedScorer {
  readonly numHeads: number;
  private readonly featurizer: Featurizer;
  private readonly table: Float32Array;
  private readonly stride: number;
  private readonly bias: Float64Array;
  /** Raw scores of every head, concatenated; `views[h]` is head h's part. */
  private readonly z: Float64Array;
  private readonly views: Float64Array[];
  private readonly wordScorers: WordScorer[];

  constructor(blocks: readonly FittedBlock[], sublinearTf: boolean, heads: readonly LinearModel[]) {
    const numFeatures = blocks.reduce((a, b) => a + b.hashes.length, 0);
    const width = heads.reduce((a, h) => a + h.numClasses, 0);
    this.numHeads = heads.length;
    this.stride = 1 + width;
    this.table = new Float32Array(numFeatures * this.stride);
    this.bias = new Float64Array(width);
    this.z = new Float64Array(width);
    this.views = [];
    let g = 0;
    for (const b of blocks) {
      for (let i = 0; i < b.idf.length; i++) this.table[(g + i) * this.stride] = b.idf[i]!;
      g += b.idf.length;
    }
    let col = 0;
    for (const h of heads) {
      if (h.numFeatures !== numFeatures) {
        throw new RangeError(`head has ${h.numFeatures} features, blocks have ${numFeatures}`);
      }
      const k = h.numClasses;
      for (let f = 0; f < numFeatures; f++) {
        const dst = f * this.stride + 1 + col;
        for (let c = 0; c < k; c++) this.table[dst + c] = h.weights[f * k + c]!;
      }
      for (let c = 0; c < k; c++) this.bias[col + c] = h.bias[c]!;
      this.views.push(this.z.subarray(col, col + k));
      col += k;
    }
    this.featurizer = new Featurizer(blocks, sublinearTf, {
      idf: { values: this.table, stride: this.stride },
      skipCharWords: true,
    });
    this.wordScorers = [];
    blocks.forEach((b, i) => {
      if (b.spec.kind !== 'char_words') return;
      this.wordScorers.push(
        new WordScorer(
          this.table,
          this.stride,
          width,
          this.featurizer.offsets[i]!,
          b.hashes.length,
          this.featurizer.charLookups[i]!,
          sublinearTf,
          b.spec.weight,
        ),
      );
    });
  }

  /**
   * Raw (uncalibrated) scores of `text`, one array per head. The arrays are reused by
   * the next call: read or copy them before scoring another text.
   */
  score(text: string): readonly Float64Array[] {
    const row = this.featurizer.transform(text);
    const { table, stride, z } = this;
    const width = z.length;
    z.set(this.bias);
    const indices = row.indices;
    const values = row.values;
    for (let p = 0; p < row.length; p++) {
      const v = values[p]!;
      const base = indices[p]! * stride + 1;
      for (let c = 0; c < width; c++) z[c]! += v * table[base + c]!;
    }
    const words = this.featurizer.words;
    for (const ws of this.wordScorers) ws.addTo(z, this.featurizer.text, words);
    return this.views;
  }
}

/** True when two models featurize text identically, so one pass can serve both. */
export function sameFeatures(
  a: { blocks: readonly FittedBlock[]; sublinearTf: boolean },
  b: { blocks: readonly FittedBlock[]; sublinearTf: boolean },
): boolean {
  if (a === b) return true;
  if (a.sublinearTf !== b.sublinearTf || a.blocks.length !== b.blocks.length) return false;
  return a.blocks.every((x, i) => {
    const y = b.blocks[i]!;
    return (
      // minDf and maxFeatures only shaped the vocabulary, which is compared itself.
      x.spec.kind === y.spec.kind &&
      x.spec.minN === y.spec.minN &&
      x.spec.maxN === y.spec.maxN &&
      x.spec.weight === y.spec.weight &&
      equalArrays(x.hashes, y.hashes) &&
      equalArrays(x.idf, y.idf)
    );
  });
}

function equalArrays(a: Uint32Array | Float32Array, b: Uint32Array | Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

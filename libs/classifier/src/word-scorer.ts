import { IdSink, type CharWbLookup } from './char-wb-cache.js';
import type { DistinctWords } from './distinct-words.js';
import { termWeight } from './tfidf.js';

// Words up to this many code units are cached; longer ones are rare and scored directly.
const MAX_WORD = 24;
// Memory for the cached per-word scores (plus the words themselves, ~1.3 MB for the
// shipped pair of models): room for the few thousand words a support queue keeps using.
const CACHE_BYTES = 1024 * 1024;

/**
 * Scores a `char_words` block (see BlockSpec) word by word. A word's contribution to the
 * heads' scores, Σ_g tf(g)·idf(g)·W[g] over its n-grams, and its squared norm depend on
 * the word alone, so both are cached by the word's characters: a ticket of ~80 words,
 * most of them seen before, costs ~80 cache probes and K multiply-adds each instead of
 * ~1,500 n-gram lookups and weight fetches. Exact: a probe compares the word itself.
 */
export class WordScorer {
  private readonly slots: number;
  private readonly wordLength: Int16Array;
  private readonly lastUsed: Uint8Array;
  private readonly chars: Uint16Array;
  private readonly vectors: Float64Array;
  private readonly squaredNorms: Float64Array;
  private readonly sum: Float64Array;
  private readonly scratch: Float64Array;
  private readonly counts: Uint16Array;
  private readonly ids = new IdSink();

  /**
   * `table` holds feature g's idf at `g * stride` and its `width` head weights right
   * after it (FusedScorer's layout); the block's features start at `offset`.
   */
  constructor(
    private readonly table: Float32Array,
    private readonly stride: number,
    private readonly width: number,
    private readonly offset: number,
    numBlockFeatures: number,
    private readonly lookup: CharWbLookup,
    private readonly sublinearTf: boolean,
    private readonly weight: number,
  ) {
    let slots = 64;
    while (slots * 2 * (width + 1) * 8 <= CACHE_BYTES && slots < 8192) slots *= 2;
    this.slots = slots;
    this.wordLength = new Int16Array(slots).fill(-1);
    this.lastUsed = new Uint8Array(slots / 2);
    this.chars = new Uint16Array(slots * MAX_WORD);
    this.vectors = new Float64Array(slots * width);
    this.squaredNorms = new Float64Array(slots);
    this.sum = new Float64Array(width);
    this.scratch = new Float64Array(width);
    this.counts = new Uint16Array(numBlockFeatures);
  }

  /** Adds the block's scores for the distinct `words` of `text` (lower-cased) to `z`. */
  addTo(z: Float64Array, text: string, words: DistinctWords): void {
    const width = this.width;
    const sum = this.sum;
    const vectors = this.vectors;
    sum.fill(0);
    let norm = 0;
    for (let w = 0; w < words.count; w++) {
      const start = words.start[w]!;
      const end = words.end[w]!;
      const h = words.hash[w]!;
      const s = termWeight(words.occurrences[w]!, this.sublinearTf);
      const len = end - start;
      if (len > MAX_WORD) {
        const q = this.score(text, start, end, h, this.scratch, 0);
        for (let c = 0; c < width; c++) sum[c]! += s * this.scratch[c]!;
        norm += s * s * q;
        continue;
      }
      // Two-way set associative: a word may sit in either slot of its pair; a miss
      // replaces the one not used last, so two common words never evict each other.
      const set = ((h ^ (h >>> 13)) & (this.slots - 2)) | 0;
      let slot = set;
      let hit = this.matches(slot, text, start, len);
      if (!hit) {
        slot = set + 1;
        hit = this.matches(slot, text, start, len);
      }
      if (!hit) {
        slot = set + (this.lastUsed[set >> 1] === 0 ? 1 : 0);
        this.squaredNorms[slot] = this.score(text, start, end, h, vectors, slot * width);
        this.wordLength[slot] = len;
        const base = slot * MAX_WORD;
        for (let k = 0; k < len; k++) this.chars[base + k] = text.charCodeAt(start + k);
      }
      this.lastUsed[set >> 1] = slot - set;
      const v = slot * width;
      for (let c = 0; c < width; c++) sum[c]! += s * vectors[v + c]!;
      norm += s * s * this.squaredNorms[slot]!;
    }
    if (norm <= 0) return;
    const scale = this.weight / Math.sqrt(norm);
    for (let c = 0; c < width; c++) z[c]! += scale * sum[c]!;
  }

  private matches(slot: number, text: string, start: number, len: number): boolean {
    if (this.wordLength[slot] !== len) return false;
    const base = slot * MAX_WORD;
    for (let k = 0; k < len; k++)
      if (this.chars[base + k] !== text.charCodeAt(start + k)) return false;
    return true;
  }

  // One word's Σ tf·idf·W into out[at, at + width); returns its squared norm.
  private score(
    text: string,
    start: number,
    end: number,
    h: number,
    out: Float64Array,
    at: number,
  ): number {
    const { ids, counts, table, stride, width } = this;
    ids.length = 0;
    this.lookup.word(text, start, end, h, ids);
    for (let c = 0; c < width; c++) out[at + c] = 0;
    for (let i = 0; i < ids.length; i++) counts[ids.buf[i]!]!++;
    let q = 0;
    for (let i = 0; i < ids.length; i++) {
      const f = ids.buf[i]!;
      const n = counts[f]!;
      if (n === 0) continue; // a repeated n-gram, already taken
      counts[f] = 0;
      const base = (this.offset + f) * stride;
      const v = termWeight(n, this.sublinearTf) * table[base]!;
      q += v * v;
      for (let c = 0; c < width; c++) out[at + c]! += v * table[base + 1 + c]!;
    }
    return q;
  }
}

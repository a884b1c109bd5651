import type { HashIndex } from './hash-index.js';
import { HashSink, emitCharWbNgrams, isSpace } from './ngram-hash.js';

/** A growable buffer of feature indices, reused between documents. */
export class IdSink {
  buf = new Int32Array(2048);
  length = 0;
  push(id: number): void {
    if (this.length === this.buf.length) this.reserve(1);
    this.buf[this.length++] = id;
  }
  /** Makes room for `extra` more entries. */
  reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const next = new Int32Array(Math.max(this.buf.length * 2, this.length + extra));
    next.set(this.buf);
    this.buf = next;
  }
}

// Direct-mapped: word frequencies are Zipfian, so a small table catches most of them.
const SLOTS = 2048;
// Longer words are rare; they take the uncached path.
const MAX_WORD = 14;

/**
 * char_wb n-grams → feature indices, memoized per word. char_wb n-grams never cross a
 * word (whitespace) boundary, so a word always yields the same features in the same
 * order; a ticket of ~80 words repeats most of them, and so does the next ticket.
 * A cached word costs one comparison instead of ~4 hash lookups per character, and
 * those lookups were most of a prediction. The cache compares the word itself, so it
 * is exact: the features and their order are those the uncached path would give.
 */
export class CharWbLookup {
  private readonly words = new Uint16Array(SLOTS * MAX_WORD);
  private readonly wordLength = new Int8Array(SLOTS).fill(-1);
  private readonly ids: Int32Array;
  private readonly idCount = new Uint8Array(SLOTS);
  private readonly perWord: number;
  private readonly sink = new HashSink();

  constructor(
    private readonly index: HashIndex,
    private readonly minN: number,
    private readonly maxN: number,
  ) {
    // n-grams of a padded word of MAX_WORD characters, for n = minN..maxN.
    let most = 0;
    for (let n = Math.max(minN, 1); n <= maxN; n++) most += Math.max(0, MAX_WORD + 2 - n + 1);
    this.perWord = most;
    this.ids = new Int32Array(SLOTS * most);
  }

  /** Appends the in-vocabulary features of `lower`'s char_wb n-grams to `out`. */
  collect(lower: string, out: IdSink): void {
    const n = lower.length;
    let i = 0;
    while (i < n) {
      while (i < n && isSpace(lower.charCodeAt(i))) i++;
      if (i >= n) break;
      const start = i;
      let h = 0x811c9dc5;
      while (i < n) {
        const c = lower.charCodeAt(i);
        if (isSpace(c)) break;
        h = Math.imul(h ^ c, 0x01000193);
        i++;
      }
      this.word(lower, start, i, h, out);
    }
  }

  /**
   * Appends the features of one word, `text[start, end)`, whose FNV-1a hash over its
   * code units is `h` (as collect and DistinctWords compute it).
   */
  word(text: string, start: number, end: number, h: number, out: IdSink): void {
    const len = end - start;
    if (len > MAX_WORD) {
      this.lookup(text.slice(start, end), out);
      return;
    }
    const slot = (h ^ (h >>> 15)) & (SLOTS - 1);
    const base = slot * MAX_WORD;
    let hit = this.wordLength[slot] === len;
    for (let k = 0; hit && k < len; k++) hit = this.words[base + k] === text.charCodeAt(start + k);
    const idBase = slot * this.perWord;
    if (!hit) {
      const before = out.length;
      this.lookup(text.slice(start, end), out);
      const count = out.length - before;
      this.ids.set(out.buf.subarray(before, out.length), idBase);
      this.idCount[slot] = count;
      this.wordLength[slot] = len;
      for (let k = 0; k < len; k++) this.words[base + k] = text.charCodeAt(start + k);
      return;
    }
    const count = this.idCount[slot]!;
    out.reserve(count);
    const buf = out.buf;
    const ids = this.ids;
    let o = out.length;
    for (let k = 0; k < count; k++) buf[o++] = ids[idBase + k]!;
    out.length = o;
  }

  private lookup(word: string, out: IdSink): void {
    const sink = this.sink;
    sink.clear();
    emitCharWbNgrams(word, this.minN, this.maxN, sink);
    for (let k = 0; k < sink.length; k++) {
      const f = this.index.get(sink.buf[k]!);
      if (f >= 0) out.push(f);
    }
  }
}

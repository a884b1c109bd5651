import { isSpace } from './ngram-hash.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * The distinct whitespace-separated words of one text, with how often each occurs, in
 * order of first occurrence. Words are compared by their characters, so the grouping is
 * exact; `hash` is the FNV-1a hash of the word's UTF-16 code units (the same hash
 * CharWbLookup keys its cache on). Reused from text to text without allocating.
 */
export class DistinctWords {
  count = 0;
  start = new Int32Array(256);
  end = new Int32Array(256);
  hash = new Int32Array(256);
  occurrences = new Int32Array(256);
  // Open addressing: entry index + 1, valid only where stamp === generation.
  private table = new Int32Array(1024);
  private stamp = new Int32Array(1024);
  private generation = 0;

  /** Groups the words of `text` (already lower-cased). */
  collect(text: string): void {
    this.count = 0;
    this.nextGeneration();
    const n = text.length;
    let i = 0;
    while (i < n) {
      while (i < n && isSpace(text.charCodeAt(i))) i++;
      if (i >= n) break;
      const start = i;
      let h = FNV_OFFSET;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (isSpace(c)) break;
        h = Math.imul(h ^ c, FNV_PRIME);
        i++;
      }
      this.add(text, start, i, h | 0);
    }
  }

  private add(text: string, start: number, end: number, h: number): void {
    let mask = this.table.length - 1;
    let s = spread(h) & mask;
    for (;;) {
      if (this.stamp[s] !== this.generation) break;
      const e = this.table[s]! - 1;
      if (this.hash[e] === h && sameWord(text, this.start[e]!, this.end[e]!, start, end)) {
        this.occurrences[e]!++;
        return;
      }
      s = (s + 1) & mask;
    }
    if (this.count === this.start.length) this.growEntries();
    const e = this.count++;
    this.start[e] = start;
    this.end[e] = end;
    this.hash[e] = h;
    this.occurrences[e] = 1;
    if (this.count * 2 > this.table.length) {
      this.growTable();
      mask = this.table.length - 1;
      s = spread(h) & mask;
      while (this.stamp[s] === this.generation) s = (s + 1) & mask;
    }
    this.table[s] = e + 1;
    this.stamp[s] = this.generation;
  }

  private nextGeneration(): void {
    this.generation = (this.generation + 1) | 0;
    if (this.generation === 0) {
      this.stamp.fill(0);
      this.generation = 1;
    }
  }

  private growEntries(): void {
    const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const next = new Int32Array(a.length * 2);
      next.set(a);
      return next;
    };
    this.start = grow(this.start);
    this.end = grow(this.end);
    this.hash = grow(this.hash);
    this.occurrences = grow(this.occurrences);
  }

  // Doubles the table and re-inserts every entry but the newest (the caller places it).
  private growTable(): void {
    const size = this.table.length * 2;
    this.table = new Int32Array(size);
    this.stamp = new Int32Array(size);
    this.generation = 1;
    const mask = size - 1;
    for (let e = 0; e < this.count - 1; e++) {
      let s = spread(this.hash[e]!) & mask;
      while (this.stamp[s] === 1) s = (s + 1) & mask;
      this.table[s] = e + 1;
      this.stamp[s] = 1;
    }
  }
}

function sameWord(text: string, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (let k = 0; k < aEnd - a; k++)
    if (text.charCodeAt(a + k) !== text.charCodeAt(b + k)) return false;
  return true;
}

function spread(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return h ^ (h >>> 15);
}

/**
 * Text → 32-bit n-gram hashes, without allocating a string per n-gram: prediction runs
 * once per message on the Kafka consumer, and substring allocation was the cost that
 * mattered. Hashes are FNV-1a over UTF-16 code units, so they are stable across runs
 * and platforms and can be stored in a model file.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** A growable buffer of hashes, reused between documents. */
export class HashSink {
  buf = new Uint32Array(1024);
  length = 0;
  push(h: number): void {
    if (this.length === this.buf.length) {
      const next = new Uint32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = h;
  }
  clear(): void {
    this.length = 0;
  }
}

// Word characters as in scikit-learn's default token pattern (\w): letters, digits, _.
const ASCII_WORD = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  ASCII_WORD[c] = /[A-Za-z0-9_]/.test(ch) ? 1 : 0;
}
const UNICODE_WORD = /[\p{L}\p{N}\p{M}_]/u;

function isWordChar(code: number): boolean {
  if (code < 128) return ASCII_WORD[code] === 1;
  // Surrogate halves belong to astral letters or emoji; treat them as word chars so a
  // token is never cut in the middle of a code point.
  if (code >= 0xd800 && code <= 0xdfff) return true;
  return UNICODE_WORD.test(String.fromCharCode(code));
}

export function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0x2028;
}

/** Combines two hashes order-sensitively (for word n-grams). */
function combine(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, FNV_PRIME) ^ b;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Hashes of the word tokens of two or more word characters (scikit-learn's default
 * `\b\w\w+\b`), so the baseline matches the usual TfidfVectorizer setup. Word n-grams
 * and pairs are built from these, so a text is tokenized once for both. The caller
 * passes lower-cased text.
 */
export function emitTokens(text: string, out: HashSink): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && !isWordChar(text.charCodeAt(i))) i++;
    const start = i;
    let h = FNV_OFFSET;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (!isWordChar(c)) break;
      h = Math.imul(h ^ c, FNV_PRIME);
      i++;
    }
    if (i - start >= 2) out.push(h >>> 0);
  }
}

/** Word n-grams (minN..maxN) of `count` token hashes, in text order. */
export function wordNgramsOf(
  tokens: Uint32Array,
  count: number,
  minN: number,
  maxN: number,
  out: HashSink,
): void {
  for (let t = 0; t < count; t++) {
    const tok = tokens[t]!;
    if (minN <= 1) out.push(tok);
    // n-grams ending at this token, for n = 2..maxN.
    let g = tok;
    for (let k = 2; k <= maxN && k <= t + 1; k++) {
      g = combine(tokens[t + 1 - k]!, g);
      if (k >= minN) out.push(g);
    }
  }
}

/**
 * Ordered pairs of word tokens 2..`window` positions apart (skip-bigrams): a cheap
 * second-order signal ("card" … "arrive") that plain n-grams miss in free word order.
 */
export function wordPairsOf(
  tokens: Uint32Array,
  count: number,
  window: number,
  out: HashSink,
): void {
  for (let a = 0; a < count; a++) {
    const left = tokens[a]! ^ 0x5bd1e995;
    for (let b = a + 2; b <= a + window && b < count; b++) out.push(combine(left, tokens[b]!));
  }
}

const scratch = new HashSink();

export function emitWordNgrams(text: string, minN: number, maxN: number, out: HashSink): void {
  scratch.clear();
  emitTokens(text, scratch);
  wordNgramsOf(scratch.buf, scratch.length, minN, maxN, out);
}

export function emitWordPairs(text: string, window: number, out: HashSink): void {
  scratch.clear();
  emitTokens(text, scratch);
  wordPairsOf(scratch.buf, scratch.length, window, out);
}

/**
 * Character n-grams inside word boundaries, padded with one space on each side
 * (scikit-learn's `char_wb`): robust to typos and inflections, which is what lifts
 * short intent queries. Words are split on whitespace only, so punctuation stays.
 */
export function emitCharWbNgrams(text: string, minN: number, maxN: number, out: HashSink): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && !isSpace(text.charCodeAt(i))) i++;
    const end = i;
    // Padded word: positions -1 and end are the virtual spaces.
    for (let s = start - 1; s < end; s++) {
      let h = FNV_OFFSET;
      for (let len = 1; len <= maxN; len++) {
        const p = s + len - 1;
        if (p > end) break;
        const c = p === start - 1 || p === end ? 32 : text.charCodeAt(p);
        h = Math.imul(h ^ c, FNV_PRIME);
        if (len >= minN) out.push(h >>> 0);
      }
    }
  }
}

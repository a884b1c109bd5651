/**
 * Open-addressing map from a 32-bit n-gram hash to a feature index. Keys and values sit
 * interleaved in one typed array, so a probe touches one cache line: this lookup runs
 * for every n-gram of every message, and with ~100k features the table does not fit in
 * cache, so memory traffic — not arithmetic — is what a prediction costs. A bit filter
 * in front (an eighth of the table's bytes, so it stays cached) answers most misses
 * without touching the table: four in ten word pairs of a ticket are not in the
 * vocabulary.
 */
export class HashIndex {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly filter: Int32Array;
  private readonly filterShift: number;

  constructor(readonly hashes: Uint32Array) {
    let cap = 16;
    while (cap < hashes.length * 2) cap *= 2;
    // slots[2s] = key (as int32), slots[2s + 1] = feature index, -1 when empty.
    this.slots = new Int32Array(cap * 2);
    for (let s = 0; s < cap; s++) this.slots[2 * s + 1] = -1;
    this.mask = cap - 1;
    // 8 bits per slot: with slots ≥ 2 × keys, about 6% of misses pass the filter.
    const filterBits = cap * 8;
    this.filter = new Int32Array(filterBits >>> 5);
    this.filterShift = 32 - Math.log2(filterBits);
    for (let i = 0; i < hashes.length; i++) {
      const h = hashes[i]! | 0;
      const bit = mix2(h) >>> this.filterShift;
      this.filter[bit >>> 5]! |= 1 << (bit & 31);
      let s = mix(h) & this.mask;
      while (this.slots[2 * s + 1] !== -1) s = (s + 1) & this.mask;
      this.slots[2 * s] = h;
      this.slots[2 * s + 1] = i;
    }
  }

  get size(): number {
    return this.hashes.length;
  }

  /** The feature index of a hash, or -1 when it is not in the vocabulary. */
  get(hash: number): number {
    const h = hash | 0;
    const bit = mix2(h) >>> this.filterShift;
    if ((this.filter[bit >>> 5]! & (1 << (bit & 31))) === 0) return -1;
    const slots = this.slots;
    let s = mix(h) & this.mask;
    for (;;) {
      const v = slots[2 * s + 1]!;
      if (v === -1 || slots[2 * s] === h) return v;
      s = (s + 1) & this.mask;
    }
  }
}

// FNV hashes are weak in their low bits; spread them before masking.
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return h ^ (h >>> 16);
}

// An independent spread for the filter, so its collisions are not the table's.
function mix2(h: number): number {
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return h ^ (h >>> 15);
}

import type { LabeledExample } from './csv.js';
import { createRng, shuffleInPlace } from './rng.js';

/**
 * Stratified, seeded split: each label keeps its share on both sides, so a rare class
 * is not left out of validation by chance. A label with a single example stays in
 * training (it cannot be validated and still be learned).
 */
export function stratifiedSplit<T extends LabeledExample>(
  examples: readonly T[],
  fraction: number,
  seed: number,
): { train: T[]; valid: T[] } {
  const byLabel = new Map<string, number[]>();
  examples.forEach((e, i) => {
    const list = byLabel.get(e.label);
    if (list) list.push(i);
    else byLabel.set(e.label, [i]);
  });
  const rand = createRng(seed);
  const inValid = new Uint8Array(examples.length);
  for (const label of [...byLabel.keys()].sort()) {
    const idx = byLabel.get(label)!;
    shuffleInPlace(idx, rand);
    const take = idx.length < 2 ? 0 : Math.min(idx.length - 1, Math.round(idx.length * fraction));
    for (let i = 0; i < take; i++) inValid[idx[i]!] = 1;
  }
  const train: T[] = [];
  const valid: T[] = [];
  examples.forEach((e, i) => (inValid[i] ? valid : train).push(e));
  return { train, valid };
}

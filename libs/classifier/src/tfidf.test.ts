import { describe, expect, it } from 'vitest';
import { FusedScorer } from './fused-scorer.js';
import { HashIndex } from './hash-index.js';
import { HashSink, emitCharWbNgrams } from './ngram-hash.js';
import { scoreInto, type LinearModel } from './softmax-regression.js';
import { Featurizer, fitBlocks, type FeaturizerSpec, type FittedBlock } from './tfidf.js';

const CORPUS = [
  'my card payment was declined twice, please help',
  'the card arrived but the pin does not work',
  'banana banana split, the card is a card',
  'Überweisung fehlgeschlagen — naïve café résumé 😀 emoji',
  'refund refund refund the the the a a a',
  'supercalifragilisticexpialidocious antidisestablishmentarianism words card',
];

const SPEC: FeaturizerSpec = {
  sublinearTf: true,
  blocks: [
    { kind: 'word', minN: 1, maxN: 2, weight: 1, minDf: 1, maxFeatures: 1e6 },
    { kind: 'char_words', minN: 2, maxN: 5, weight: 0.8, minDf: 1, maxFeatures: 1e6 },
    { kind: 'word_pairs', minN: 2, maxN: 4, weight: 0.7, minDf: 1, maxFeatures: 1e6 },
  ],
};

/** `char_words` as its definition reads (see BlockSpec), with maps. */
function charWordsReference(block: FittedBlock, text: string, offset: number): Map<number, number> {
  const index = new HashIndex(block.hashes);
  const tf = (c: number) => (c === 1 ? 1 : 1 + Math.log(c));
  const occurrences = new Map<string, number>();
  for (const w of text.toLowerCase().split(/\s+/)) {
    if (w !== '') occurrences.set(w, (occurrences.get(w) ?? 0) + 1);
  }
  const sums = new Map<number, number>();
  let norm = 0;
  for (const [word, m] of occurrences) {
    const sink = new HashSink();
    emitCharWbNgrams(word, block.spec.minN, block.spec.maxN, sink);
    const counts = new Map<number, number>();
    for (let i = 0; i < sink.length; i++) {
      const f = index.get(sink.buf[i]!);
      if (f >= 0) counts.set(f, (counts.get(f) ?? 0) + 1);
    }
    let q = 0;
    for (const [f, c] of counts) {
      const v = tf(c) * block.idf[f]!;
      q += v * v;
      sums.set(offset + f, (sums.get(offset + f) ?? 0) + tf(m) * v);
    }
    norm += tf(m) ** 2 * q;
  }
  for (const [g, v] of sums) sums.set(g, (block.spec.weight * v) / Math.sqrt(norm));
  return sums;
}

function randomHead(numFeatures: number, numClasses: number, seed: number): LinearModel {
  let a = seed;
  const next = () => ((a = (Math.imul(a, 1103515245) + 12345) | 0) >>> 8) / (1 << 24) - 0.5;
  return {
    numFeatures,
    numClasses,
    weights: Float32Array.from({ length: numFeatures * numClasses }, next),
    bias: Float32Array.from({ length: numClasses }, next),
  };
}

describe('char_words features', () => {
  const blocks = fitBlocks(CORPUS, SPEC);
  const featurizer = new Featurizer(blocks, SPEC.sublinearTf);
  const offset = blocks[0]!.hashes.length;

  it('are Σ s(w)·u(w) over the distinct words, normalized as the spec says', () => {
    for (const text of [...CORPUS, 'Card card CARD unseen zzz']) {
      const row = featurizer.transform(text);
      const got = new Map<number, number>();
      for (let i = 0; i < row.length; i++) {
        const g = row.indices[i]!;
        if (g >= offset && g < offset + blocks[1]!.hashes.length) got.set(g, row.values[i]!);
      }
      const want = charWordsReference(blocks[1]!, text, offset);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [g, v] of want) expect(got.get(g)).toBeCloseTo(v, 12);
    }
  });

  it('score the same word by word (cached) as feature by feature', () => {
    const f = featurizer.numFeatures;
    const heads = [randomHead(f, 3, 1), randomHead(f, 5, 2)];
    const scorer = new FusedScorer(blocks, SPEC.sublinearTf, heads);
    const want = heads.map((h) => new Float64Array(h.numClasses));
    // Twice over, so the second round comes from the word cache.
    for (const text of [...CORPUS, ...CORPUS, 'a '.repeat(3000) + 'card']) {
      const row = featurizer.transform(text);
      heads.forEach((h, i) => scoreInto(h, row.indices, row.values, 0, row.length, want[i]!));
      const got = scorer.score(text);
      heads.forEach((_, i) => {
        want[i]!.forEach((v, c) => expect(got[i]![c]).toBeCloseTo(v, 9));
      });
    }
  });
});

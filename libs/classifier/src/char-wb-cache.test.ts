import { describe, expect, it } from 'vitest';
import { CharWbLookup, IdSink } from './char-wb-cache.js';
import { HashIndex } from './hash-index.js';
import { HashSink, emitCharWbNgrams } from './ngram-hash.js';
import { fitBlocks } from './tfidf.js';

const CORPUS = [
  'my card payment was declined twice, please help',
  'the card arrived but the pin does not work',
  'Überweisung fehlgeschlagen — naïve café résumé 😀 emoji',
  'supercalifragilisticexpialidocious antidisestablishmentarianism words',
  'refund refund refund the the the a a a',
];

function uncached(index: HashIndex, text: string): number[] {
  const sink = new HashSink();
  emitCharWbNgrams(text, 2, 5, sink);
  const out: number[] = [];
  for (let i = 0; i < sink.length; i++) {
    const f = index.get(sink.buf[i]!);
    if (f >= 0) out.push(f);
  }
  return out;
}

describe('CharWbLookup', () => {
  const [block] = fitBlocks(CORPUS, {
    sublinearTf: true,
    blocks: [{ kind: 'char_wb', minN: 2, maxN: 5, weight: 1, minDf: 1, maxFeatures: 1e6 }],
  });
  const index = new HashIndex(block!.hashes);

  it('gives exactly the features, in order, of hashing every n-gram', () => {
    const lookup = new CharWbLookup(index, 2, 5);
    const ids = new IdSink();
    // Twice over: the second round is served from the cache.
    for (const text of [...CORPUS, ...CORPUS, 'unseen words zzz qqq card']) {
      ids.length = 0;
      lookup.collect(text.toLowerCase(), ids);
      expect(Array.from(ids.buf.subarray(0, ids.length))).toEqual(
        uncached(index, text.toLowerCase()),
      );
    }
  });

  it('stays exact when thousands of distinct words evict each other', () => {
    const lookup = new CharWbLookup(index, 2, 5);
    const ids = new IdSink();
    const words = Array.from({ length: 6000 }, (_, i) => `ca${i.toString(36)}rd`);
    for (let round = 0; round < 2; round++) {
      const text = words.join(' ');
      ids.length = 0;
      lookup.collect(text, ids);
      expect(Array.from(ids.buf.subarray(0, ids.length))).toEqual(uncached(index, text));
    }
  });
});

import { describe, expect, it } from 'vitest';
import { DistinctWords } from './distinct-words.js';

function reference(text: string): [string, number][] {
  const counts = new Map<string, number>();
  for (const w of text.split(/[\t\n\v\f\r \u00a0\u2028]+/)) {
    if (w !== '') counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return [...counts];
}

function grouped(words: DistinctWords, text: string): [string, number][] {
  const out: [string, number][] = [];
  for (let i = 0; i < words.count; i++) {
    out.push([text.slice(words.start[i], words.end[i]), words.occurrences[i]!]);
  }
  return out;
}

describe('DistinctWords', () => {
  it('groups the words of a text with their counts, in order of first occurrence', () => {
    const words = new DistinctWords();
    for (const text of [
      'the card the card the pin',
      '  leading and trailing\tspace\n\nnew lines  ',
      'café café naïve 😀 😀 emoji',
      '',
      'a',
    ]) {
      words.collect(text);
      expect(grouped(words, text)).toEqual(reference(text));
    }
  });

  it('stays exact for texts with thousands of distinct words, and after them', () => {
    const words = new DistinctWords();
    const many = Array.from({ length: 5000 }, (_, i) => `w${i % 3001}`).join(' ');
    words.collect(many);
    expect(grouped(words, many)).toEqual(reference(many));
    const small = 'w1 w2 w1';
    words.collect(small);
    expect(grouped(words, small)).toEqual([
      ['w1', 2],
      ['w2', 1],
    ]);
  });
});

import { randomBytes } from 'node:crypto';
import { murmur2 as libraryMurmur2 } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { keyHash, murmur2 } from './murmur2.js';

describe('murmur2', () => {
  it("equals @platformatic/kafka's port of the Java client's hash for every tail length", () => {
    for (let length = 0; length < 70; length++) {
      for (let n = 0; n < 20; n++) {
        const key = randomBytes(length);
        expect(murmur2(key)).toBe(libraryMurmur2(key));
      }
    }
  });

  it("gives the Java client's values (its UtilsTest cases)", () => {
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of cases) {
      expect(murmur2(Buffer.from(key))).toBe(hash);
      expect(keyHash(Buffer.from(key))).toBe(hash & 0x7fffffff);
    }
  });
});

// Subsets (first N, N per class seeded) and the seeded RNG behind them and the shuffles.
import { describe, expect, it } from 'vitest';
import { classCounts, deriveSeed, permutation, Rng, subset, subsetIndices, type Cifar10Split } from '../../lib/data/index.js';
import { batchBytes } from './fixtures.js';

const b = batchBytes(200, 5);
const split: Cifar10Split = { count: 200, images: b.images, labels: b.labels };

describe('subset', () => {
  it('first N keeps the first records with their pixels', () => {
    const s = subset(split, { first: 13 });
    expect(s.count).toBe(13);
    expect(Array.from(s.labels)).toEqual(Array.from(split.labels.subarray(0, 13)));
    expect(Buffer.from(s.images).equals(Buffer.from(split.images.subarray(0, 13 * 3072)))).toBe(true);
  });

  it('N per class gives exactly N of each class, seeded, pixels following labels', () => {
    const a = subsetIndices(split, { perClass: 4, seed: 1 });
    const again = subsetIndices(split, { perClass: 4, seed: 1 });
    const other = subsetIndices(split, { perClass: 4, seed: 2 });
    expect(Array.from(a)).toEqual(Array.from(again));
    expect(Array.from(a)).not.toEqual(Array.from(other));
    const s = subset(split, { perClass: 4, seed: 1 });
    expect(classCounts(s)).toEqual(new Array(10).fill(4));
    for (let i = 0; i < s.count; i++) {
      expect(s.labels[i]).toBe(split.labels[a[i]]);
      expect(s.images[i * 3072 + 77]).toBe(split.images[a[i] * 3072 + 77]);
    }
    expect(Array.from(a)).toEqual([...a].sort((x, y) => x - y));
  });

  it('refuses impossible subsets with a message', () => {
    expect(() => subset(split, { first: 201 })).toThrow('asked for the first 201 records, the split holds 200');
    expect(() => subset(split, { perClass: 100 })).toThrow(/asked for 100 per class; the split has only \d+ of class 0/);
    expect(() => subset(split, { first: 0 })).toThrow('first must be a positive integer, got 0');
  });
});

describe('Rng', () => {
  it('is deterministic per seed and spreads values evenly', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 1000 }, () => a.nextInt(10));
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.nextInt(10)));
    const hist = new Array(10).fill(0);
    for (const x of xs) hist[x]++;
    for (const h of hist) expect(h).toBeGreaterThan(60);
    expect(new Rng(43).nextUint32()).not.toBe(new Rng(42).nextUint32());
  });

  it('permutation holds every index once; derived seeds differ per word', () => {
    const p = permutation(1000, 7);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const seeds = new Set<number>();
    for (let e = 0; e < 20; e++) for (let s = 0; s < 20; s++) seeds.add(deriveSeed(1, e, s));
    expect(seeds.size).toBe(400);
    expect(deriveSeed(1, 2, 3)).toBe(deriveSeed(1, 2, 3));
  });
});

import { describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { expectClose, rand, randInt, testDevices } from '../helpers/check.js';
import { drawCropFlipRef, drawCutoutRef, loadBatchRef, type BatchOpts } from '../ref/data.js';

const DS = [13, 3, 8, 9]; // N, C, H, W (odd, non-square)
const pixels = Uint8Array.from(rand(DS.reduce((a, b) => a * b), 7, 0, 1), (v) => Math.floor(v * 256));
const indices = Int32Array.of(12, 0, 5, 5, 7, 3, 11);

const optionSets: BatchOpts[] = [
  { scale: 1 / 255, mean: [], std: [], cropPad: 0, padMode: 'zero', flip: false, seed: 1 },
  { scale: 1 / 255, mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.243, 0.261], cropPad: 0, padMode: 'zero', flip: false, seed: 1 },
  { scale: 1 / 255, mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.243, 0.261], cropPad: 4, padMode: 'zero', flip: true, seed: 42 },
  { scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1], cropPad: 3, padMode: 'reflect', flip: true, seed: 7 },
  { scale: 1, mean: [], std: [], cropPad: 2, padMode: 'zero', flip: false, seed: 9 },
  // Cutout: even and odd sides, with and without crop and flip (squares hang over the 8 x 9 images' edges)
  { scale: 1 / 255, mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.243, 0.261], cropPad: 4, padMode: 'reflect', flip: true, seed: 42, cutout: 4 },
  { scale: 1 / 255, mean: [], std: [], cropPad: 0, padMode: 'zero', flip: false, seed: 3, cutout: 5 },
];

describe.each(testDevices())('data ops on %s', (device) => {
  const load = (o: BatchOpts) => {
    const ds = native.fromArray(device, DS, pixels);
    const ix = native.fromArray(device, [indices.length], indices);
    const out = native.empty(device, [indices.length, ...DS.slice(1)], 'float32');
    native.loadBatch(ds, ix, out, o);
    const v = native.toArray(out) as Float32Array;
    for (const t of [ds, ix, out]) t.dispose();
    return v;
  };

  optionSets.forEach((o, k) => {
    it(`loadBatch case ${k}: ${JSON.stringify(o)}`, () => {
      const got = load(o);
      expectClose(got, loadBatchRef(pixels, DS, indices, o), 1e-6, 'batch');
      // bit for bit: the float32 rounding sequence every backend shares (core/augment.h)
      expect(Array.from(got)).toEqual(Array.from(loadBatchRef(pixels, DS, indices, o, true)));
    });
  });

  it('loadBatch is deterministic in the seed and varies with it', () => {
    const o = optionSets[2];
    const a = load(o);
    expect(Array.from(load(o))).toEqual(Array.from(a));
    expect(Array.from(load({ ...o, seed: 43 }))).not.toEqual(Array.from(a));
    // the draws cover every offset and both flip states over many positions
    const seen = new Set<string>();
    let flips = 0;
    for (let b = 0; b < 2000; b++) {
      const cf = drawCropFlipRef(5, b, 4, true);
      seen.add(`${cf.dy},${cf.dx}`);
      flips += cf.flip ? 1 : 0;
    }
    expect(seen.size).toBe(81);
    expect(Math.abs(flips / 2000 - 0.5)).toBeLessThan(0.05);
  });

  it('Cutout hides a square of the normalized sample and leaves the crop and flip draws as they were', () => {
    const o = optionSets[5];
    const withCut = load(o);
    const without = load({ ...o, cutout: 0 });
    const plane = DS[2] * DS[3];
    let hidden = 0;
    for (let i = 0; i < withCut.length; i++) {
      if (withCut[i] !== without[i]) {
        expect(withCut[i]).toBe(0);
        hidden++;
      }
    }
    // per sample and channel at most 4 x 4 pixels, and some sample shows a whole square
    expect(hidden).toBeGreaterThan(0);
    expect(hidden).toBeLessThanOrEqual(indices.length * DS[1] * 16);
    expect(Array.from(load({ ...o, cutout: undefined }))).toEqual(Array.from(without));
    // centres cover the whole image, squares hang over every edge
    const corners = new Set<string>();
    for (let b = 0; b < 3000; b++) {
      const c = drawCutoutRef(5, b, 4, DS[2], DS[3]);
      corners.add(`${c.y0},${c.x0}`);
    }
    expect(corners.size).toBe(plane);
    expect(corners.has('-2,-2') && corners.has(`${DS[2] - 3},${DS[3] - 3}`)).toBe(true);
    const ds = native.fromArray(device, DS, pixels);
    const ix = native.fromArray(device, [1], Int32Array.of(0));
    const out = native.empty(device, [1, ...DS.slice(1)], 'float32');
    try {
      expect(() => native.loadBatch(ds, ix, out, { ...o, cutout: 9 })).toThrow(/option cutout must be in \[0, 8\], got 9/);
      expect(() => native.loadBatch(ds, ix, out, { ...o, cutout: 1.5 })).toThrow(/option cutout must be an integer/);
    } finally {
      for (const t of [ds, ix, out]) t.dispose();
    }
  });

  it('gatherLabels from uint8 and int32 labels', () => {
    const lv = randInt(DS[0], 3, 10);
    for (const labels of [native.fromArray(device, [DS[0]], Uint8Array.from(lv)), native.fromArray(device, [DS[0]], lv)]) {
      const ix = native.fromArray(device, [indices.length], indices);
      const out = native.empty(device, [indices.length], 'int32');
      native.gatherLabels(labels, ix, out);
      expect(Array.from(native.toArray(out))).toEqual(Array.from(indices, (i) => lv[i]));
      for (const t of [labels, ix, out]) t.dispose();
    }
  });
});

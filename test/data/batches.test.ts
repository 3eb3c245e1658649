// BatchLoader over a device-resident split: seeded shuffles (same seed same order, epochs differ, every
// record once per epoch), drop_last and the last partial batch, resumability, and the pixels that
// native.loadBatch produces against a TypeScript reference (exact without augmentation; with crop and
// flip every image must be one of the 81 x 2 allowed crops/flips of its source, and the choices vary).
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { BatchLoader, CIFAR10_MEAN, CIFAR10_STD, evalBatches, splitToDevice, trainBatches, type Cifar10Split } from '../../lib/data/index.js';
import { toFloat32, toInt32 } from '../../lib/tensor.js';
import { expectClose } from '../helpers/check.js';
import { batchBytes } from './fixtures.js';

const N = 103;
const b = batchBytes(N, 9);
const split: Cifar10Split = { count: N, images: b.images, labels: b.labels };
const dev = splitToDevice(split, 'cpu');
const loaders: BatchLoader[] = [];
const make = (l: BatchLoader) => { loaders.push(l); return l; };
afterAll(() => { for (const l of loaders) l.dispose(); dev.dispose(); });

const f = Math.fround;
/** float32 ToTensor + Normalize of one record, no augmentation. */
function reference(i: number, normalize: boolean): Float32Array {
  const out = new Float32Array(3072);
  for (let k = 0; k < 3072; k++) {
    const c = k >> 10;
    const mean = normalize ? f(CIFAR10_MEAN[c]) : 0;
    const std = normalize ? f(CIFAR10_STD[c]) : 1;
    out[k] = f(f(f(split.images[i * 3072 + k] * f(1 / 255)) - mean) / std);
  }
  return out;
}

describe('BatchLoader order', () => {
  it('same seed gives the same order, epochs and seeds differ, every record once per epoch', () => {
    const a = make(new BatchLoader(dev, { batchSize: 10, shuffle: true, seed: 3 }));
    const a2 = make(new BatchLoader(dev, { batchSize: 10, shuffle: true, seed: 3 }));
    const c = make(new BatchLoader(dev, { batchSize: 10, shuffle: true, seed: 4 }));
    const e0 = Array.from(a.order(0));
    expect(Array.from(a2.order(0))).toEqual(e0);
    expect(Array.from(a.order(1))).not.toEqual(e0);
    expect(Array.from(c.order(0))).not.toEqual(e0);
    for (const e of [0, 1, 2]) {
      const seen = new Array(N).fill(0);
      for (let s = 0; s < a.batchesPerEpoch; s++) for (const i of a.batchIndices(e, s)) seen[i]++;
      expect(seen).toEqual(new Array(N).fill(1));
    }
    expect(a.batchesPerEpoch).toBe(11);
    expect(a.batchIndices(0, 10).length).toBe(3);
    expect(Array.from(a.order(0))).toEqual(e0); // recomputed after other epochs: still the same
  });

  it('drop_last drops the partial batch; no shuffle keeps file order', () => {
    const d = make(new BatchLoader(dev, { batchSize: 10, shuffle: true, dropLast: true }));
    expect(d.batchesPerEpoch).toBe(10);
    expect(() => d.batchIndices(0, 10)).toThrow('step must be an integer in [0, 10), got 10');
    const e = make(evalBatches(dev, { batchSize: 25 }));
    expect(e.batchesPerEpoch).toBe(5);
    expect(Array.from(e.batchIndices(0, 4))).toEqual([100, 101, 102]);
    expect(Array.from(e.order(7))).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it('a run resumed at (epoch, step) sees the same batches as an uninterrupted one', () => {
    const a = make(trainBatches(dev, { batchSize: 30, seed: 5 }));
    const whole: string[] = [];
    for (const x of a.iterate()) {
      whole.push(`${x.epoch}/${x.step}:${Array.from(toInt32(x.labels)).join(',')}:${a.params(x.epoch, x.step).seed}`);
      if (whole.length === 10) break;
    }
    const r = make(trainBatches(dev, { batchSize: 30, seed: 5 }));
    const resumed: string[] = [];
    for (const x of r.iterate({ epoch: 1, step: 2 })) {
      resumed.push(`${x.epoch}/${x.step}:${Array.from(toInt32(x.labels)).join(',')}:${r.params(x.epoch, x.step).seed}`);
      if (resumed.length === 4) break;
    }
    expect(whole[6].startsWith('1/2:')).toBe(true);
    expect(resumed).toEqual(whole.slice(6, 10));
  });

  it('augmentation seeds depend on (seed, epoch, step) only', () => {
    const a = make(trainBatches(dev, { batchSize: 10, seed: 3 }));
    const p = a.params(2, 5);
    expect(p).toMatchObject({ cropPad: 4, flip: true, scale: 1 / 255, mean: [], std: [] });
    expect(make(trainBatches(dev, { batchSize: 10, seed: 3 })).params(2, 5).seed).toBe(p.seed);
    expect(a.params(2, 6).seed).not.toBe(p.seed);
    expect(a.params(3, 5).seed).not.toBe(p.seed);
    expect(make(evalBatches(dev, { batchSize: 10 })).params(0, 0)).toMatchObject({ cropPad: 0, flip: false });
  });
});

describe('BatchLoader pixels (native.loadBatch)', () => {
  it('evaluation batches equal the reference, in order, with labels, the last one partial', () => {
    for (const normalize of [false, true]) {
      const e = make(evalBatches(dev, { batchSize: 40, normalize }));
      const batches = [...e.epoch(0)];
      expect(batches.map((x) => x.size)).toEqual([40, 40, 23]);
      const last = batches[2];
      expect(last.images.shape).toEqual([23, 3, 32, 32]);
      expect(Array.from(toInt32(last.labels))).toEqual(Array.from(split.labels.subarray(80)));
      const got = toFloat32(last.images);
      for (let j = 0; j < 23; j++) expectClose(got.subarray(j * 3072, (j + 1) * 3072), reference(80 + j, normalize), 1e-6, `record ${80 + j}`);
      const first = e.load(0, 0);
      expect(Array.from(toInt32(first.labels))).toEqual(Array.from(split.labels.subarray(0, 40)));
      expectClose(toFloat32(first.images).subarray(39 * 3072), reference(39, normalize), 1e-6, 'record 39');
    }
  });

  it('training batches are allowed crops/flips of their records, reproducible, varied', () => {
    const t = make(trainBatches(dev, { batchSize: 32, seed: 11 }));
    const batch = t.load(1, 2);
    const idx = t.batchIndices(1, 2);
    expect(Array.from(toInt32(batch.labels))).toEqual(Array.from(idx, (i) => split.labels[i]));
    const got = toFloat32(batch.images);
    const choices = new Set<string>();
    for (let j = 0; j < 32; j++) {
      const src = split.images.subarray(idx[j] * 3072, (idx[j] + 1) * 3072);
      const out = got.subarray(j * 3072, (j + 1) * 3072);
      const match = findCropFlip(src, out);
      expect(match, `sample ${j}`).not.toBeNull();
      choices.add(match!);
    }
    expect(choices.size).toBeGreaterThan(10);
    expect([...choices].some((c) => c.endsWith('flip'))).toBe(true);
    expect([...choices].some((c) => !c.endsWith('flip'))).toBe(true);
    const again = Array.from(toFloat32(make(trainBatches(dev, { batchSize: 32, seed: 11 })).load(1, 2).images));
    expect(again).toEqual(Array.from(got));
    expect(Array.from(toFloat32(t.load(1, 3).images))).not.toEqual(Array.from(got));
  });

  it('writes into the same preallocated tensors every batch', () => {
    const e = make(evalBatches(dev, { batchSize: 16 }));
    const live = native.liveBytes('cpu');
    const a = e.load(0, 0);
    const c = e.load(0, 1);
    expect(c.images).toBe(a.images);
    expect(native.liveBytes('cpu')).toBe(live);
  });
});

/** "dy,dx[,flip]" of the crop (pad 4, zero padding) and flip of `src` that gives `out`, or null. */
function findCropFlip(src: Uint8Array, out: Float32Array): string | null {
  for (const flip of [false, true]) {
    for (let dy = 0; dy <= 8; dy++) {
      for (let dx = 0; dx <= 8; dx++) {
        let ok = true;
        for (let k = 0; k < 3072 && ok; k++) {
          const c = k >> 10, y = (k >> 5) & 31, x = k & 31;
          const sy = y + dy - 4, sx = (flip ? 31 - x : x) + dx - 4;
          const v = sy < 0 || sy > 31 || sx < 0 || sx > 31 ? 0 : src[c * 1024 + sy * 32 + sx];
          ok = out[k] === f(v * f(1 / 255));
        }
        if (ok) return `${dy},${dx}${flip ? ',flip' : ''}`;
      }
    }
  }
  return null;
}

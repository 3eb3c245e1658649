// BatchLoader's two phases: prepare() writes a batch's indices and augmentation seed to the device,
// launch() runs only device ops on the loader's fixed tensors (what a captured CUDA graph replays). Together
// they must give exactly what load() gives, the last partial batch included.
import { afterAll, describe, expect, it } from 'vitest';
import { BatchLoader, splitToDevice, type BatchLoaderOptions, type Cifar10Split } from '../../lib/data/index.js';
import { native } from '../../lib/backend.js';
import { toFloat32, toInt32, writeSeed } from '../../lib/tensor.js';
import { batchBytes } from './fixtures.js';

const N = 103;
const b = batchBytes(N, 11);
const split: Cifar10Split = { count: N, images: b.images, labels: b.labels };
const dev = splitToDevice(split, 'cpu');
const loaders: BatchLoader[] = [];
const make = (o: BatchLoaderOptions) => {
  const l = new BatchLoader(dev, o);
  loaders.push(l);
  return l;
};
afterAll(() => { for (const l of loaders) l.dispose(); dev.dispose(); });

const bitsOf = (t: Parameters<typeof toFloat32>[0]) => Array.from(new Uint32Array(toFloat32(t).buffer));
const train: BatchLoaderOptions = { batchSize: 10, shuffle: true, augment: true, normalize: true, padMode: 'reflect', seed: 0xfeedbeef };

describe('BatchLoader prepare/launch', () => {
  it('prepare + launch equals load over two epochs, bit for bit, the partial last batch included', () => {
    const eager = make(train);
    const split2 = make(train);
    expect(eager.batchesPerEpoch).toBe(11);
    for (const epoch of [0, 1]) {
      for (let step = 0; step < eager.batchesPerEpoch; step++) {
        const want = eager.load(epoch, step);
        const wantImages = bitsOf(want.images);
        const wantLabels = Array.from(toInt32(want.labels));
        const p = split2.prepare(epoch, step);
        expect(p.size).toBe(step === 10 ? 3 : 10);
        expect(Array.from(toInt32(p.indices))).toEqual(Array.from(split2.batchIndices(epoch, step)));
        expect(toInt32(p.seed)[0] >>> 0).toBe(split2.params(epoch, step).seed);
        const got = split2.launch(p);
        expect({ size: got.size, epoch: got.epoch, step: got.step }).toEqual({ size: want.size, epoch, step });
        expect(bitsOf(got.images)).toEqual(wantImages);
        expect(Array.from(toInt32(got.labels))).toEqual(wantLabels);
        expect(wantLabels).toEqual(Array.from(split2.batchIndices(epoch, step), (i) => split.labels[i]));
      }
    }
  });

  it('each batch size keeps its tensors: the seed and index tensors of a size are the same every step', () => {
    const l = make(train);
    const p0 = l.prepare(0, 0);
    const p1 = l.prepare(0, 1);
    const last = l.prepare(0, 10);
    expect(p1.indices).toBe(p0.indices);
    expect(p1.seed).toBe(p0.seed);
    expect(last.indices).not.toBe(p0.indices);
    expect(last.seed).not.toBe(p0.seed);
    expect(l.prepare(1, 10).seed).toBe(last.seed);
  });

  it('launch reads the seed from the device: a seed written there (as a replayed graph would find it) is the one used', () => {
    const l = make(train);
    const p = l.prepare(0, 2);
    const own = bitsOf(l.launch(p).images);
    const seed3 = l.params(0, 3).seed;
    writeSeed(p.seed, seed3);
    const got = bitsOf(l.launch(p).images);
    const out = native.empty('cpu', [10, 3, 32, 32], 'float32');
    native.loadBatch(dev.images, p.indices, out, l.params(0, 3));
    expect(got).toEqual(bitsOf(out));
    expect(got).not.toEqual(own);
    out.dispose();
  });

  it('a batch that is no longer prepared, or from another loader, is refused', () => {
    const l = make(train);
    const other = make(train);
    const p = l.prepare(0, 0);
    l.prepare(0, 1);
    expect(() => l.launch(p)).toThrow(/^BatchLoader\.launch: batch 0 of epoch 0 is no longer prepared: its tensors now hold batch 1 of epoch 0$/);
    expect(() => other.launch(l.prepare(0, 2))).toThrow(/was not prepared by this loader/);
    const q = l.prepare(0, 3);
    expect(l.launch(q).step).toBe(3);
    expect(l.launch(q).step).toBe(3); // launching again replays the same batch
    l.dispose();
    expect(() => l.launch(q)).toThrow(/its tensors now hold nothing \(the loader was disposed\)/);
  });
});

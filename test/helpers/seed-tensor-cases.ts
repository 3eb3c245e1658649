// The seed-tensor form of the random ops (dropoutForward, loadBatch), run on one device: reading the seed
// from an int32 [1] tensor must give exactly what passing the same number gives. Shared by
// test/native/seed-tensor.test.ts (cpu) and test/cuda/seed-tensor.test.ts (the GPU, where a kernel reads
// the seed from device memory).
import { expect, it } from 'vitest';
import { native, type Device, type DType, type NativeTensor } from '../../lib/backend.js';
import type { BatchParams } from '../../binding.js';
import { seedTensor, toFloat32, writeSeed } from '../../lib/tensor.js';
import { f32, rand } from './check.js';

/** Around and past 2^31, where the int32 bits of a uint32 seed turn negative. */
export const SEEDS = [1, 1234, 0x7fffffff, 0x80000000, 0x80000000 + 12345, 0xdeadbeef, 0xffffffff];

const bits = (t: NativeTensor): number[] =>
  Array.from(t.dtype === 'bfloat16' ? (native.toArray(t) as Uint16Array) : new Uint32Array(toFloat32(t).buffer));

export function seedTensorCases(device: Device): void {
  const withSeed = <T>(seed: number, f: (s: NativeTensor) => T): T => {
    const s = seedTensor(device);
    try {
      writeSeed(s, seed);
      return f(s);
    } finally {
      s.dispose();
    }
  };

  for (const dtype of ['float32', 'bfloat16'] as DType[]) {
    it(`dropoutForward (${dtype}) reads its seed from a seed tensor exactly as from the number`, () => {
      const shape = [3, 5, 4, 6];
      const n = 3 * 5 * 4 * 6;
      const layout = native.preferredLayout(device, shape, dtype);
      const x32 = native.fromArray(device, shape, f32(rand(n, 3)));
      const xPlain = native.empty(device, shape, dtype);
      const x = native.empty(device, shape, dtype, layout);
      if (dtype === 'bfloat16') native.cast(x32, xPlain);
      else native.copy(x32, xPlain);
      native.copy(xPlain, x);
      const run = (seed: number, s: NativeTensor | null) => {
        const mask = native.empty(device, shape, 'uint8');
        const y = native.empty(device, shape, dtype, layout);
        native.dropoutForward(x, mask, y, 0.4, seed, s);
        const out = { mask: Array.from(native.toArray(mask) as Uint8Array), y: bits(y) };
        mask.dispose();
        y.dispose();
        return out;
      };
      const masks = new Set<string>();
      for (const seed of SEEDS) {
        const want = run(seed, null);
        // The number passed (0) differs from the tensor's seed: the tensor must win.
        const got = withSeed(seed, (s) => {
          const r = run(0, s);
          expect(native.toArray(s)[0] >>> 0, 'the seed tensor is read only').toBe(seed);
          return r;
        });
        expect(got.mask).toEqual(want.mask);
        expect(got.y).toEqual(want.y);
        masks.add(want.mask.join(''));
      }
      expect(masks.size, 'every seed draws its own mask').toBe(SEEDS.length);
      expect(run(0, null).mask).not.toEqual(run(SEEDS[0], null).mask);
      for (const t of [x, xPlain, x32]) t.dispose();
    });
  }

  it('loadBatch reads its augmentation seed from a seed tensor exactly as from p.seed', () => {
    const DS = [9, 3, 8, 8];
    const pixels = Uint8Array.from(rand(9 * 3 * 8 * 8, 5, 0, 1), (v) => Math.floor(v * 256));
    const ds = native.fromArray(device, DS, pixels);
    const ix = native.fromArray(device, [6], Int32Array.of(8, 0, 3, 3, 5, 1));
    const p: BatchParams = { scale: 1 / 255, mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3], cropPad: 3, padMode: 'reflect', flip: true, seed: 0 };
    const run = (seed: number, s: NativeTensor | null) => {
      const out = native.empty(device, [6, 3, 8, 8], 'float32');
      native.loadBatch(ds, ix, out, { ...p, seed }, s);
      const v = bits(out);
      out.dispose();
      return v;
    };
    const batches = new Set<string>();
    for (const seed of SEEDS) {
      const want = run(seed, null);
      expect(withSeed(seed, (s) => run(0, s))).toEqual(want);
      batches.add(want.join(','));
    }
    expect(batches.size, 'every seed draws its own crops and flips').toBe(SEEDS.length);
    expect(run(0, null)).not.toEqual(run(SEEDS[0], null));
    ds.dispose();
    ix.dispose();
  });

  it('bad seed tensors are refused with messages naming the op and the argument', () => {
    const x = native.fromArray(device, [2, 3], f32(rand(6, 1)));
    const mask = native.empty(device, [2, 3], 'uint8');
    const y = native.empty(device, [2, 3], 'float32');
    const ds = native.fromArray(device, [2, 3, 4, 4], new Uint8Array(96));
    const ix = native.fromArray(device, [1], Int32Array.of(1));
    const out = native.empty(device, [1, 3, 4, 4], 'float32');
    const p: BatchParams = { scale: 1, mean: [], std: [], cropPad: 1, padMode: 'zero', flip: true, seed: 0 };
    const bad = (make: () => NativeTensor | number, type: typeof TypeError, msg: string) => {
      const s = make();
      expect(() => native.dropoutForward(x, mask, y, 0.5, 1, s as NativeTensor)).toThrow(type);
      expect(() => native.dropoutForward(x, mask, y, 0.5, 1, s as NativeTensor)).toThrow(new RegExp(`^dropoutForward: ${msg}`));
      expect(() => native.loadBatch(ds, ix, out, p, s as NativeTensor)).toThrow(new RegExp(`^loadBatch: ${msg}`));
      if (typeof s !== 'number' && !s.disposed) s.dispose();
    };
    bad(() => native.empty(device, [1], 'float32'), TypeError, 'seedTensor must be int32, got float32\\[1\\]');
    bad(() => native.empty(device, [1], 'uint8'), TypeError, 'seedTensor must be int32');
    bad(() => native.empty(device, [2], 'int32'), RangeError, 'seedTensor must have shape \\[1\\], got int32\\[2\\]');
    bad(() => native.empty(device, [1, 1], 'int32'), RangeError, 'seedTensor must have shape \\[1\\]');
    bad(() => 7, TypeError, 'seedTensor \\(argument \\d\\) must be a Tensor, got number');
    bad(() => {
      const s = seedTensor(device);
      s.dispose();
      return s;
    }, TypeError, 'seedTensor \\(argument \\d\\) was disposed');
    // null and undefined mean "use the number"
    native.dropoutForward(x, mask, y, 0.5, 1, null);
    native.loadBatch(ds, ix, out, p, undefined);
    for (const t of [x, mask, y, ds, ix, out]) t.dispose();
  });
}

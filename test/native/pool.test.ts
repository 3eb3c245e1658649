import { describe, expect, it } from 'vitest';
import { native, type Layout } from '../../lib/backend.js';
import { dot, expectClose, f32, finiteDiff, rand, testDevices } from '../helpers/check.js';
import { maxPoolBackwardRef, maxPoolRef, poolOutShape, type PoolP } from '../ref/pool.js';

const cases: { shape: number[]; p: PoolP }[] = [
  { shape: [2, 16, 8, 8], p: { kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 } },
  { shape: [2, 3, 7, 9], p: { kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 } },
  { shape: [1, 20, 5, 6], p: { kernelH: 2, kernelW: 3, strideH: 1, strideW: 2, padH: 1, padW: 1 } },
];
const layouts: Layout[] = ['plain', 'nChw8c', 'nChw16c'];

describe.each(testDevices())('maxPool2d on %s', (device) => {
  const usable = (l: Layout) => device === 'cpu' || l === 'plain';
  for (const { shape, p } of cases)
    for (const layout of layouts.filter(usable)) {
      it(`forward and backward ${JSON.stringify(shape)} k${p.kernelH}x${p.kernelW} s${p.strideH}x${p.strideW} p${p.padH} ${layout}`, () => {
        const n = shape.reduce((a, b) => a * b);
        const xv = f32(rand(n, 11 + n));
        const oshape = poolOutShape(shape, p);
        const on = oshape.reduce((a, b) => a * b);
        const dyv = f32(rand(on, 12 + n));
        const ref = maxPoolRef(xv, shape, p);
        const x = native.fromArray(device, shape, xv, 'float32', layout);
        const y = native.empty(device, oshape, 'float32', layout);
        // inference: no workspace
        native.maxPool2dForward(x, y, null, p);
        expectClose(native.toArray(y) as Float32Array, ref.y, 1e-6, 'y (inference)');
        native.fill(y, 0);
        const bytes = native.maxPool2dWorkspaceSize(x, y, p);
        expect(bytes).toBeGreaterThan(0);
        const ws = native.empty(device, [bytes], 'uint8');
        native.maxPool2dForward(x, y, ws, p);
        expectClose(native.toArray(y) as Float32Array, ref.y, 1e-6, 'y (training)');
        const dy = native.fromArray(device, oshape, dyv, 'float32', layout);
        const dx = native.empty(device, shape, 'float32', layout);
        native.maxPool2dBackward(dy, x, y, ws, dx, p);
        expectClose(native.toArray(dx) as Float32Array, maxPoolBackwardRef(dyv, ref.arg, n), 1e-6, 'dx');
        for (const t of [x, y, ws, dy, dx]) t.dispose();
      });
    }

  it('reference backward matches central finite differences', () => {
    const shape = [1, 2, 5, 5];
    const p = cases[1].p;
    const x = rand(50, 3);
    const w = rand(poolOutShape(shape, p).reduce((a, b) => a * b), 4);
    const ref = maxPoolRef(x, shape, p);
    const fd = finiteDiff((v) => dot(maxPoolRef(v, shape, p).y, w), x);
    expectClose(maxPoolBackwardRef(w, ref.arg, x.length), fd, 1e-6, 'finite differences');
  });
});

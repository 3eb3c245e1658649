import { describe, expect, it } from 'vitest';
import { native, type Layout } from '../../lib/backend.js';
import { dot, expectClose, f32, finiteDiff, rand, testDevices } from '../helpers/check.js';
import { axpbyRef, dropoutMaskRef, dropoutRef, reluBackwardRef, reluRef } from '../ref/elementwise.js';

const shapes: { shape: number[]; layout: Layout }[] = [
  { shape: [7], layout: 'plain' },
  { shape: [3, 5, 7, 9], layout: 'plain' },
  { shape: [2, 12, 5, 3], layout: 'nChw8c' }, // padded channel block
  { shape: [2, 32, 4, 4], layout: 'nChw16c' },
];

describe.each(testDevices())('elementwise ops on %s', (device) => {
  const cases = shapes.filter((c) => device === 'cpu' || c.layout === 'plain');
  for (const { shape, layout } of cases) {
    const n = shape.reduce((a, b) => a * b);
    it(`relu forward/backward ${JSON.stringify(shape)} ${layout}`, () => {
      const xv = f32(rand(n, 1 + n));
      const dyv = f32(rand(n, 2 + n));
      const x = native.fromArray(device, shape, xv, 'float32', layout);
      const y = native.empty(device, shape, 'float32', layout);
      native.reluForward(x, y);
      const yref = reluRef(xv);
      expectClose(native.toArray(y) as Float32Array, yref, 0, 'relu');
      const dy = native.fromArray(device, shape, dyv, 'float32', layout);
      native.reluBackward(y, dy, dy); // in place
      expectClose(native.toArray(dy) as Float32Array, reluBackwardRef(yref, dyv), 0, 'relu backward');
      native.reluForward(x, x); // in place
      expectClose(native.toArray(x) as Float32Array, yref, 0, 'relu in place');
      for (const t of [x, y, dy]) t.dispose();
    });

    it(`axpby ${JSON.stringify(shape)} ${layout}`, () => {
      const xv = f32(rand(n, 3 + n));
      const yv = f32(rand(n, 4 + n));
      const x = native.fromArray(device, shape, xv, 'float32', layout);
      const y = native.fromArray(device, shape, yv, 'float32', layout);
      native.axpby(x, y, 0.75, -1.5);
      expectClose(native.toArray(y) as Float32Array, axpbyRef(xv, yv, 0.75, -1.5), 1e-6, 'axpby');
      native.fill(y, NaN);
      native.axpby(x, y, 2, 0); // beta = 0: y is not read
      expectClose(native.toArray(y) as Float32Array, axpbyRef(xv, yv, 2, 0), 1e-6, 'axpby beta=0');
      x.dispose();
      y.dispose();
    });
  }

  for (const { shape, layout } of [shapes[1], { shape: [4, 33], layout: 'plain' as Layout }, ...(device === 'cpu' ? [shapes[2], shapes[3]] : [])]) {
    it(`dropout ${JSON.stringify(shape)} ${layout}`, () => {
      const n = shape.reduce((a, b) => a * b);
      const p = 0.3;
      const xv = f32(rand(n, 5 + n));
      const x = native.fromArray(device, shape, xv, 'float32', layout);
      const mask = native.empty(device, shape, 'uint8');
      const y = native.empty(device, shape, 'float32', layout);
      native.dropoutForward(x, mask, y, p, 1234);
      const m = native.toArray(mask) as Uint8Array;
      // The mask is in logical order whatever the layout: the same elements drop on every layout/backend.
      expect(Array.from(m)).toEqual(Array.from(dropoutMaskRef(n, p, 1234)));
      const kept = m.reduce((a, b) => a + b, 0) / n;
      expect(Math.abs(kept - (1 - p))).toBeLessThan(0.1);
      expectClose(native.toArray(y) as Float32Array, dropoutRef(xv, m, p), 1e-6, 'dropout y');
      const dyv = f32(rand(n, 6 + n));
      const dy = native.fromArray(device, shape, dyv, 'float32', layout);
      const dx = native.empty(device, shape, 'float32', layout);
      native.dropoutBackward(dy, mask, dx, p);
      expectClose(native.toArray(dx) as Float32Array, dropoutRef(dyv, m, p), 1e-6, 'dropout dx');
      // same seed, same mask; another seed, another mask
      const mask2 = native.empty(device, shape, 'uint8');
      native.dropoutForward(x, mask2, y, p, 1234);
      expect(Array.from(native.toArray(mask2))).toEqual(Array.from(m));
      native.dropoutForward(x, mask2, y, p, 1235);
      expect(Array.from(native.toArray(mask2))).not.toEqual(Array.from(m));
      for (const t of [x, mask, y, dy, dx, mask2]) t.dispose();
    });
  }

  it('reference backwards of relu and dropout match central finite differences', () => {
    const x = rand(40, 9), w = rand(40, 10);
    expectClose(reluBackwardRef(reluRef(x), w), finiteDiff((v) => dot(reluRef(v), w), x), 1e-6, 'relu');
    const mask = dropoutMaskRef(40, 0.4, 77);
    expectClose(dropoutRef(w, mask, 0.4), finiteDiff((v) => dot(dropoutRef(v, mask, 0.4), w), x), 1e-6, 'dropout');
  });
});

import { describe, expect, it } from 'vitest';
import { native, type Layout } from '../../lib/backend.js';
import { dot, expectClose, f32, finiteDiff, rand, testDevices } from '../helpers/check.js';
import { batchNormBackwardRef, batchNormRef } from '../ref/batchnorm.js';

const cases: { shape: number[]; layout: Layout }[] = [
  { shape: [3, 5, 7, 3], layout: 'plain' },
  { shape: [2, 12, 5, 3], layout: 'nChw8c' }, // padded channel block
  { shape: [4, 32, 4, 4], layout: 'nChw16c' },
  { shape: [5, 16, 1, 1], layout: 'plain' },
  { shape: [3, 24, 3, 5], layout: 'nhwc' }, // rows of channels, per-thread partial sums
];

describe.each(testDevices())('batchNorm2d on %s', (device) => {
  for (const { shape, layout } of cases.filter((c) => device === 'cpu' || c.layout === 'plain' || c.layout === 'nhwc')) {
    const [, C] = shape;
    const n = shape.reduce((a, b) => a * b);
    it(`training forward, running stats and backward ${JSON.stringify(shape)} ${layout}`, () => {
      const xv = f32(rand(n, 21 + n, -2, 3));
      const g = f32(rand(C, 22, 0.5, 1.5));
      const b = f32(rand(C, 23));
      const rm0 = f32(rand(C, 24));
      const rv0 = f32(rand(C, 25, 0.5, 2));
      const p = { training: true, momentum: 0.1, eps: 1e-5 };
      const ref = batchNormRef(xv, shape, g, b, rm0, rv0, true, p.momentum, p.eps);
      const x = native.fromArray(device, shape, xv, 'float32', layout);
      const y = native.empty(device, shape, 'float32', layout);
      const [gamma, beta, rm, rv] = [g, b, rm0, rv0].map((v) => native.fromArray(device, [C], v));
      const sm = native.empty(device, [C], 'float32');
      const si = native.empty(device, [C], 'float32');
      native.batchNorm2dForward(x, gamma, beta, rm, rv, y, sm, si, p);
      expectClose(native.toArray(y) as Float32Array, ref.y, 1e-5, 'y');
      expectClose(native.toArray(sm) as Float32Array, ref.mean, 1e-5, 'saveMean');
      expectClose(native.toArray(si) as Float32Array, ref.invStd, 1e-5, 'saveInvStd');
      expectClose(native.toArray(rm) as Float32Array, ref.runningMean, 1e-5, 'runningMean');
      expectClose(native.toArray(rv) as Float32Array, ref.runningVar, 1e-5, 'runningVar (unbiased)');

      const dyv = f32(rand(n, 26 + n));
      const bref = batchNormBackwardRef(xv, shape, dyv, g, ref.mean, ref.invStd);
      const dy = native.fromArray(device, shape, dyv, 'float32', layout);
      const dx = native.empty(device, shape, 'float32', layout);
      const dg = native.empty(device, [C], 'float32');
      const db = native.empty(device, [C], 'float32');
      native.batchNorm2dBackward(x, dy, gamma, sm, si, dx, dg, db, p.eps);
      expectClose(native.toArray(dx) as Float32Array, bref.dx, 1e-4, 'dx');
      expectClose(native.toArray(dg) as Float32Array, bref.dgamma, 1e-5, 'dgamma');
      expectClose(native.toArray(db) as Float32Array, bref.dbeta, 1e-5, 'dbeta');
      for (const t of [x, y, gamma, beta, rm, rv, sm, si, dy, dx, dg, db]) t.dispose();
    });

    it(`eval forward uses the running statistics ${JSON.stringify(shape)} ${layout}`, () => {
      const xv = f32(rand(n, 31 + n));
      const g = f32(rand(C, 32, 0.5, 1.5));
      const b = f32(rand(C, 33));
      const rm0 = f32(rand(C, 34));
      const rv0 = f32(rand(C, 35, 0.5, 2));
      const ref = batchNormRef(xv, shape, g, b, rm0, rv0, false, 0.1, 1e-3);
      const x = native.fromArray(device, shape, xv, 'float32', layout);
      const y = native.empty(device, shape, 'float32', layout);
      const [gamma, beta, rm, rv] = [g, b, rm0, rv0].map((v) => native.fromArray(device, [C], v));
      const sm = native.empty(device, [C], 'float32');
      const si = native.empty(device, [C], 'float32');
      native.batchNorm2dForward(x, gamma, beta, rm, rv, y, sm, si, { training: false, momentum: 0.1, eps: 1e-3 });
      expectClose(native.toArray(y) as Float32Array, ref.y, 1e-5, 'y');
      expect(Array.from(native.toArray(rm) as Float32Array)).toEqual(Array.from(rm0)); // untouched in eval
      expect(Array.from(native.toArray(rv) as Float32Array)).toEqual(Array.from(rv0));
      for (const t of [x, y, gamma, beta, rm, rv, sm, si]) t.dispose();
    });

    it(`fused ReLU (relu: true) writes max(0, BN(x)) in training and eval, same statistics ${JSON.stringify(shape)} ${layout}`, () => {
      const xv = f32(rand(n, 41 + n, -2, 2));
      const g = f32(rand(C, 42, 0.5, 1.5)), b = f32(rand(C, 43)), rm0 = f32(rand(C, 44)), rv0 = f32(rand(C, 45, 0.5, 2));
      for (const training of [true, false]) {
        const ref = batchNormRef(xv, shape, g, b, rm0, rv0, training, 0.1, 1e-5);
        const x = native.fromArray(device, shape, xv, 'float32', layout), y = native.empty(device, shape, 'float32', layout);
        const [gamma, beta, rm, rv] = [g, b, rm0, rv0].map((v) => native.fromArray(device, [C], v));
        const sm = native.empty(device, [C], 'float32'), si = native.empty(device, [C], 'float32');
        native.batchNorm2dForward(x, gamma, beta, rm, rv, y, sm, si, { training, momentum: 0.1, eps: 1e-5, relu: true });
        const got = native.toArray(y) as Float32Array;
        expectClose(got, ref.y.map((v) => Math.max(0, v)), 1e-5, `y (training ${training})`);
        expect(got.some((v) => v === 0) && got.some((v) => v > 0)).toBe(true);  // the input straddles 0
        expectClose(native.toArray(rm) as Float32Array, ref.runningMean, 1e-5, 'runningMean');
        for (const t of [x, y, gamma, beta, rm, rv, sm, si]) t.dispose();
      }
    });

    it(`backward with the fused ReLU's output masks dy by it (reluY) ${JSON.stringify(shape)} ${layout}`, () => {
      const xv = f32(rand(n, 51 + n, -2, 2));
      const g = f32(rand(C, 52, 0.5, 1.5)), b = f32(rand(C, 53)), rv0 = f32(rand(C, 55, 0.5, 2));
      const p = { training: true, momentum: 0.1, eps: 1e-5, relu: true };
      const ref = batchNormRef(xv, shape, g, b, new Float64Array(C), rv0, true, p.momentum, p.eps);
      const x = native.fromArray(device, shape, xv, 'float32', layout), y = native.empty(device, shape, 'float32', layout);
      const [gamma, beta, rm, rv] = [g, b, new Float32Array(C), rv0].map((v) => native.fromArray(device, [C], v));
      const sm = native.empty(device, [C], 'float32'), si = native.empty(device, [C], 'float32');
      native.batchNorm2dForward(x, gamma, beta, rm, rv, y, sm, si, p);
      const dyv = f32(rand(n, 56 + n));
      // The ReLU's backward, then BatchNorm's: dy where BN(x) > 0, else 0.
      const masked = dyv.map((v, i) => (ref.y[i] > 0 ? v : 0));
      const bref = batchNormBackwardRef(xv, shape, masked, g, ref.mean, ref.invStd);
      const dy = native.fromArray(device, shape, dyv, 'float32', layout);
      const dx = native.empty(device, shape, 'float32', layout);
      const dg = native.empty(device, [C], 'float32'), db = native.empty(device, [C], 'float32');
      native.batchNorm2dBackward(x, dy, gamma, sm, si, dx, dg, db, p.eps, y);
      expect(masked.some((v) => v === 0) && masked.some((v) => v !== 0)).toBe(true);
      expectClose(native.toArray(dx) as Float32Array, bref.dx, 1e-4, 'dx');
      expectClose(native.toArray(dg) as Float32Array, bref.dgamma, 1e-5, 'dgamma');
      expectClose(native.toArray(db) as Float32Array, bref.dbeta, 1e-5, 'dbeta');
      expect(() => native.batchNorm2dBackward(x, dy, gamma, sm, si, dx, dg, db, p.eps, dx)).toThrow(/reluY and dx/);
      for (const t of [x, y, gamma, beta, rm, rv, sm, si, dy, dx, dg, db]) t.dispose();
    });
  }

  it('reference backward matches central finite differences (x, gamma, beta)', () => {
    const shape = [2, 3, 2, 3];
    const n = 36;
    const x = rand(n, 41), g = rand(3, 42, 0.5, 1.5), b = rand(3, 43), w = rand(n, 44);
    const zeros = new Float64Array(3), ones = new Float64Array(3).fill(1);
    const f = (xv: Float64Array, gv: Float64Array, bv: Float64Array) => dot(batchNormRef(xv, shape, gv, bv, zeros, ones, true, 0.1, 1e-5).y, w);
    const ref = batchNormRef(x, shape, g, b, zeros, ones, true, 0.1, 1e-5);
    const bref = batchNormBackwardRef(x, shape, w, g, ref.mean, ref.invStd);
    expectClose(bref.dx, finiteDiff((v) => f(v, g, b), x), 1e-5, 'dx vs finite differences');
    expectClose(bref.dgamma, finiteDiff((v) => f(x, v, b), g), 1e-5, 'dgamma vs finite differences');
    expectClose(bref.dbeta, finiteDiff((v) => f(x, g, v), b), 1e-5, 'dbeta vs finite differences');
  });
});

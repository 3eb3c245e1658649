import { describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { expectClose, f32, finiteDiff, rand, randInt, testDevices } from '../helpers/check.js';
import { argmaxRef, crossEntropyRef, softmaxRef, sumSquaresRef } from '../ref/loss.js';

const shapes = [[8, 10], [5, 7], [1, 1], [33, 100]];

describe.each(testDevices())('loss and metrics on %s', (device) => {
  for (const [N, C] of shapes)
    for (const ls of [0, 0.1]) {
      it(`softmaxCrossEntropy [${N},${C}] labelSmoothing ${ls}`, () => {
        const xv = f32(rand(N * C, N + C, -6, 6));
        const lv = randInt(N, 7 + N, C);
        const ref = crossEntropyRef(xv, lv, N, C, ls);
        const x = native.fromArray(device, [N, C], xv);
        const l = native.fromArray(device, [N], lv);
        const d = native.empty(device, [N, C], 'float32');
        const acc = native.fromArray(device, [1], Float32Array.of(2.5));
        native.softmaxCrossEntropy(x, l, d, acc, ls, false);
        expectClose(native.toArray(acc) as Float32Array, [ref.loss], 1e-5, 'loss');
        expectClose(native.toArray(d) as Float32Array, ref.d, 1e-5, 'dlogits');
        native.softmaxCrossEntropy(x, l, null, acc, ls, true); // accumulate, no gradient
        expectClose(native.toArray(acc) as Float32Array, [2 * ref.loss], 1e-5, 'accumulated loss');
        for (const t of [x, l, d, acc]) t.dispose();
      });
    }

  it('is numerically stable for large logits', () => {
    const xv = Float32Array.of(1000, -1000, 999, 50, 88, 89);
    const x = native.fromArray(device, [2, 3], xv);
    const l = native.fromArray(device, [2], Int32Array.of(2, 0));
    const acc = native.empty(device, [1], 'float32');
    const d = native.empty(device, [2, 3], 'float32');
    native.softmaxCrossEntropy(x, l, d, acc, 0.2, false);
    const ref = crossEntropyRef(xv, [2, 0], 2, 3, 0.2);
    expect(Number.isFinite((native.toArray(acc) as Float32Array)[0])).toBe(true);
    expectClose(native.toArray(acc) as Float32Array, [ref.loss], 1e-5, 'loss');
    expectClose(native.toArray(d) as Float32Array, ref.d, 1e-5, 'dlogits');
    for (const t of [x, l, acc, d]) t.dispose();
  });

  it('reference dlogits match central finite differences', () => {
    const N = 3, C = 4;
    const x = rand(N * C, 5, -2, 2);
    const labels = [1, 3, 0];
    const fd = finiteDiff((v) => crossEntropyRef(v, labels, N, C, 0.15).loss, x);
    expectClose(crossEntropyRef(x, labels, N, C, 0.15).d, fd, 1e-6, 'finite differences');
  });

  for (const [N, C] of shapes) {
    it(`softmax, argmax and countCorrect [${N},${C}]`, () => {
      const xv = f32(rand(N * C, 3 * N + C, -4, 4));
      const x = native.fromArray(device, [N, C], xv);
      const probs = native.empty(device, [N, C], 'float32');
      native.softmax(x, probs);
      expectClose(native.toArray(probs) as Float32Array, softmaxRef(xv, N, C), 1e-5, 'softmax');
      const am = native.empty(device, [N], 'int32');
      native.argmax(x, am);
      const aref = argmaxRef(xv, N, C);
      expect(Array.from(native.toArray(am))).toEqual(Array.from(aref));
      // labels: the argmax for the first half of the rows, something else for the rest
      const lv = Int32Array.from(aref, (a, i) => (i < N / 2 || C === 1 ? a : (a + 1) % C));
      const want = lv.reduce((s, v, i) => s + (v === aref[i] ? 1 : 0), 0);
      const l = native.fromArray(device, [N], lv);
      const correct = native.fromArray(device, [1], Int32Array.of(5));
      native.countCorrect(x, l, correct, true);
      expect((native.toArray(correct) as Int32Array)[0]).toBe(5 + want);
      native.countCorrect(x, l, correct, false);
      expect((native.toArray(correct) as Int32Array)[0]).toBe(want);
      for (const t of [x, probs, am, l, correct]) t.dispose();
    });
  }

  it('sumSquares over plain and blocked tensors; NaN and Inf propagate', () => {
    for (const [shape, layout] of [[[7, 13], 'plain'], [[2, 12, 3, 5], 'nChw8c'], [[2, 32, 3, 3], 'nChw16c']] as const) {
      if (device !== 'cpu' && layout !== 'plain') continue;
      const n = shape.reduce((a: number, b: number) => a * b, 1);
      const xv = f32(rand(n, n));
      const x = native.fromArray(device, shape, xv, 'float32', layout);
      const out = native.fromArray(device, [1], Float32Array.of(1.25));
      native.sumSquares(x, out, true);
      expectClose(native.toArray(out) as Float32Array, [1.25 + sumSquaresRef(xv)], 1e-6, `sumSquares ${layout}`);
      native.sumSquares(x, out, false);
      expectClose(native.toArray(out) as Float32Array, [sumSquaresRef(xv)], 1e-6, `sumSquares ${layout}`);
      x.dispose();
      out.dispose();
    }
    const out = native.empty(device, [1], 'float32');
    const nan = native.fromArray(device, [3], Float32Array.of(1, NaN, 2));
    native.sumSquares(nan, out, false);
    expect((native.toArray(out) as Float32Array)[0]).toBeNaN();
    const inf = native.fromArray(device, [3], Float32Array.of(1, -Infinity, 2));
    native.sumSquares(inf, out, false);
    expect((native.toArray(out) as Float32Array)[0]).toBe(Infinity);
    for (const t of [out, nan, inf]) t.dispose();
  });
});

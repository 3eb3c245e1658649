// Malformed calls to the pooling, elementwise, batch-norm, loss, optimizer and data ops: each throws a
// specific error class with a message that starts with the op's name and shows what it got; the
// process survives every one of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { native, type NativeTensor } from '../../lib/backend.js';
import { rand } from '../helpers/check.js';

type AnyFn = (...args: unknown[]) => unknown;
const n = native as unknown as Record<string, AnyFn>;
const T: Record<string, NativeTensor> = {};

const f32 = (shape: number[], layout: 'plain' | 'nChw8c' | 'nChw16c' = 'plain') =>
  native.fromArray('cpu', shape, Float32Array.from(rand(shape.reduce((a, b) => a * b, 1), shape.length)), 'float32', layout);

const pool = { kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 };
const bn = { training: true, momentum: 0.1, eps: 1e-5 };
const sgd = { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, maximize: false, firstStep: true };
const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, amsgrad: false, maximize: false, step: 1 };
const adagrad = { lr: 0.01, lrDecay: 0, weightDecay: 0, eps: 1e-10, maximize: false, step: 1 };
const batch = { scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], cropPad: 2, padMode: 'zero', flip: true, seed: 3 };

beforeAll(() => {
  T.x = f32([2, 16, 8, 8]);
  T.xb = f32([2, 16, 8, 8], 'nChw16c');
  T.y = f32([2, 16, 4, 4]);
  T.ybad = f32([2, 16, 3, 3]);
  T.x2 = f32([2, 16, 8, 8]);
  T.x4 = f32([2, 16, 8, 8]);
  T.ws = native.empty('cpu', [native.maxPool2dWorkspaceSize(T.x, T.y, pool)], 'uint8');
  T.ws1 = native.empty('cpu', [1], 'uint8');
  T.x3 = f32([16, 8, 8]);
  T.i32 = native.fromArray('cpu', [2, 16, 8, 8], new Int32Array(2048).fill(1));
  T.mask = native.empty('cpu', [2, 16, 8, 8], 'uint8');
  T.c = f32([16]);
  T.c2 = f32([16]);
  T.c3 = f32([16]);
  T.c4 = f32([16]);
  T.c5 = f32([16]);
  T.c6 = f32([16]);
  T.c17 = f32([17]);
  T.one = f32([1, 16, 1, 1]);
  T.one2 = f32([1, 16, 1, 1]);
  T.logits = f32([4, 10]);
  T.logits4 = f32([4, 10, 1, 1]);
  T.labels = native.fromArray('cpu', [4], Int32Array.of(1, 2, 10, 3));
  T.labelsNeg = native.fromArray('cpu', [4], Int32Array.of(-1, 2, 3, 3));
  T.labelsOk = native.fromArray('cpu', [4], Int32Array.of(1, 2, 3, 4));
  T.labelsF = f32([4]);
  T.acc = native.empty('cpu', [1], 'float32');
  T.acc0 = native.empty('cpu', [0], 'float32');
  T.cnt = native.empty('cpu', [1], 'int32');
  T.out3 = native.empty('cpu', [3], 'int32');
  T.p = f32([5, 7]);
  T.g = f32([5, 7]);
  T.gbad = f32([7, 5]);
  T.s1 = f32([5, 7]);
  T.s2 = f32([5, 7]);
  T.ds = native.fromArray('cpu', [13, 3, 8, 9], new Uint8Array(13 * 3 * 72).fill(7));
  T.dsF = f32([13, 3, 8, 9]);
  T.ix = native.fromArray('cpu', [2], Int32Array.of(0, 12));
  T.ixBad = native.fromArray('cpu', [2], Int32Array.of(0, 13));
  T.ixNeg = native.fromArray('cpu', [2], Int32Array.of(-4, 1));
  T.batch = native.empty('cpu', [2, 3, 8, 9], 'float32');
  T.batchBad = native.empty('cpu', [2, 3, 9, 8], 'float32');
  T.lab8 = native.fromArray('cpu', [13], new Uint8Array(13).fill(2));
  T.out2 = native.empty('cpu', [2], 'int32');
  T.gone = f32([2, 16, 8, 8]);
  T.gone.dispose();
});

afterAll(() => {
  for (const t of Object.values(T)) t.dispose();
});

// [op, args (a function so fixtures exist), error class, message pattern]
const table: [string, () => unknown[], typeof TypeError | typeof RangeError, RegExp][] = [
  // elementwise
  ['reluForward', () => [T.x], TypeError, /^reluForward: expected 2 arguments, got 1$/],
  ['reluForward', () => [T.x, 3], TypeError, /^reluForward: y \(argument 2\) must be a Tensor, got number/],
  ['reluForward', () => [T.gone, T.x], TypeError, /^reluForward: x \(argument 1\) was disposed/],
  ['reluForward', () => [T.x, T.y], RangeError, /^reluForward: x and y must have the same shape, got float32\[2,16,8,8\] and float32\[2,16,4,4\]/],
  ['reluForward', () => [T.i32, T.x], TypeError, /^reluForward: x must be float32 or bfloat16, got int32\[2,16,8,8\]/],
  ['reluBackward', () => [T.x, T.xb, T.x2], RangeError, /^reluBackward: y and dy must share a layout, got float32\[2,16,8,8\] and float32\[2,16,8,8\] \(nChw16c\)/],
  ['dropoutForward', () => [T.x, T.mask, T.x2, 1, 0], RangeError, /^dropoutForward: p must be in \[0, 1\), got 1/],
  ['dropoutForward', () => [T.x, T.mask, T.x2, NaN, 0], RangeError, /^dropoutForward: p must be finite, got nan/],
  ['dropoutForward', () => [T.x, T.x2, T.x2, 0.5, 0], TypeError, /^dropoutForward: mask must be uint8, got float32\[2,16,8,8\]/],
  ['dropoutForward', () => [T.x, T.mask, T.x2, 0.5, -1], RangeError, /^dropoutForward: seed must be in \[0, 9007199254740991\], got -1/],
  ['dropoutBackward', () => [T.x, T.ws, T.x2, 0.5], RangeError, /^dropoutBackward: mask must have shape \[2,16,8,8\], got uint8\[\d+\]/],
  ['axpby', () => [T.x, T.x2, Infinity, 1], RangeError, /^axpby: alpha must be finite, got inf/],
  ['axpby', () => [T.x, T.x2, 1, '2'], TypeError, /^axpby: beta \(argument 4\) must be a number, got string/],
  // pooling
  ['maxPool2dForward', () => [T.x, T.ybad, null, pool], RangeError, /^maxPool2dForward: y must have shape \[2,16,4,4\], got float32\[2,16,3,3\]/],
  ['maxPool2dForward', () => [T.x, T.y, null, { ...pool, strideW: undefined }], TypeError, /^maxPool2dForward: option strideW must be a number, got undefined/],
  ['maxPool2dForward', () => [T.x, T.y, null, { ...pool, padH: 2 }], RangeError, /^maxPool2dForward: padding \(2, 0\) must be at most half the kernel \(2, 2\)/],
  ['maxPool2dForward', () => [T.x, T.y, null, { ...pool, kernelH: 0 }], RangeError, /^maxPool2dForward: option kernelH must be in \[1, 65536\], got 0/],
  ['maxPool2dForward', () => [T.x, T.y, T.ws1, pool], RangeError, /^maxPool2dForward: workspace must hold at least \d+ bytes for x float32\[2,16,8,8\], got uint8\[1\]/],
  ['maxPool2dForward', () => [T.x3, T.y, null, pool], RangeError, /^maxPool2dForward: x must have 4 dimensions, got float32\[16,8,8\]/],
  ['maxPool2dForward', () => [T.xb, T.y, null, pool], RangeError, /^maxPool2dForward: x and y must share a layout/],
  ['maxPool2dBackward', () => [T.y, T.x, T.y, null, T.x2, pool], TypeError, /^maxPool2dBackward: workspace \(argument 4\) must be a Tensor, got null/],
  ['maxPool2dBackward', () => [T.ybad, T.x, T.y, T.ws, T.x2, pool], RangeError, /^maxPool2dBackward: dy must have shape \[2,16,4,4\], got float32\[2,16,3,3\]/],
  ['maxPool2dWorkspaceSize', () => [T.x, T.y, 'p'], TypeError, /^maxPool2dWorkspaceSize: p \(argument 3\) must be an options object, got string/],
  // batch norm
  ['batchNorm2dForward', () => [T.x, T.c17, T.c2, T.c3, T.c4, T.x2, T.c5, T.c6, bn], RangeError, /^batchNorm2dForward: gamma must have shape \[16\], got float32\[17\]/],
  ['batchNorm2dForward', () => [T.x, T.c, T.c2, T.c3, T.c4, T.x2, T.c5, T.c6, { ...bn, eps: 0 }], RangeError, /^batchNorm2dForward: eps must be > 0, got 0/],
  ['batchNorm2dForward', () => [T.x, T.c, T.c2, T.c3, T.c4, T.x2, T.c5, T.c6, { ...bn, relu: 'yes' }], TypeError, /^batchNorm2dForward: .*relu.*boolean/],
  ['batchNorm2dForward', () => [T.x, T.c, T.c2, T.c3, T.c4, T.x2, T.c5, T.c6, { ...bn, momentum: 1.5 }], RangeError, /^batchNorm2dForward: option momentum must be in \[0, 1\], got 1.5/],
  ['batchNorm2dForward', () => [T.x, T.c, T.c2, T.c3, T.c4, T.x2, T.c5, T.c6, { momentum: 0.1, eps: 1e-5 }], TypeError, /^batchNorm2dForward: option training must be a boolean, got undefined/],
  ['batchNorm2dForward', () => [T.one, T.c, T.c2, T.c3, T.c4, T.one2, T.c5, T.c6, bn], RangeError, /^batchNorm2dForward: training needs more than 1 value per channel, got x float32\[1,16,1,1\]/],
  ['batchNorm2dBackward', () => [T.x, T.x2, T.c, T.c2, T.c3, T.x, T.c4, T.c5], TypeError, /^batchNorm2dBackward: expected 9 to 10 arguments, got 8/],
  ['batchNorm2dBackward', () => [T.x, T.x2, T.c, T.c2, T.c3, T.x4, T.c4, T.c5, 1e-5, T.xb], RangeError, /^batchNorm2dBackward: x and reluY must share a layout/],
  ['batchNorm2dBackward', () => [T.x, T.xb, T.c, T.c2, T.c3, T.x2, T.c4, T.c5, 1e-5], RangeError, /^batchNorm2dBackward: x and dy must share a layout/],
  // loss and metrics
  ['softmaxCrossEntropy', () => [T.logits, T.labels, null, T.acc, 0, false], RangeError, /^softmaxCrossEntropy: labels\[2\] = 10 is out of range \[0, 10\)/],
  ['softmaxCrossEntropy', () => [T.logits, T.labelsNeg, null, T.acc, 0, false], RangeError, /^softmaxCrossEntropy: labels\[0\] = -1 is out of range \[0, 10\)/],
  ['softmaxCrossEntropy', () => [T.logits, T.labelsF, null, T.acc, 0, false], TypeError, /^softmaxCrossEntropy: labels must be int32, got float32\[4\]/],
  ['softmaxCrossEntropy', () => [T.logits, T.labelsOk, null, T.acc, 1.5, false], RangeError, /^softmaxCrossEntropy: labelSmoothing must be in \[0, 1\], got 1.5/],
  ['softmaxCrossEntropy', () => [T.logits4, T.labelsOk, null, T.acc, 0, false], RangeError, /^softmaxCrossEntropy: logits must have 2 dimensions, got float32\[4,10,1,1\]/],
  ['softmaxCrossEntropy', () => [T.logits, T.labelsOk, null, T.acc, 0, 'yes'], TypeError, /^softmaxCrossEntropy: accumulate \(argument 6\) must be a boolean, got string/],
  ['softmaxCrossEntropy', () => [T.logits, T.labelsOk, T.p, T.acc, 0, false], RangeError, /^softmaxCrossEntropy: dlogits must have shape \[4,10\], got float32\[5,7\]/],
  ['argmax', () => [T.logits, T.out3], RangeError, /^argmax: out must have shape \[4\], got int32\[3\]/],
  ['countCorrect', () => [T.logits, T.labelsOk, T.acc, true], TypeError, /^countCorrect: correct must be int32, got float32\[1\]/],
  ['sumSquares', () => [T.x, T.acc0, false], RangeError, /^sumSquares: out must be 1-D with at least one element, got float32\[0\]/],
  // optimizers
  ['sgdUpdate', () => [T.p, T.g, T.s1, { ...sgd, lr: -1 }], RangeError, /^sgdUpdate: option lr must be in \[0, inf\], got -1/],
  ['sgdUpdate', () => [T.p, T.g, null, sgd], RangeError, /^sgdUpdate: momentum 0.9 needs a momentumBuf like param float32\[5,7\], got null/],
  ['sgdUpdate', () => [T.p, T.g, T.s1, { ...sgd, nesterov: true, dampening: 0.1 }], RangeError, /^sgdUpdate: nesterov needs momentum > 0 and dampening 0/],
  ['sgdUpdate', () => [T.p, T.g, T.s1, 0.1], TypeError, /^sgdUpdate: p \(argument 4\) must be an options object, got number/],
  ['sgdUpdate', () => [T.p, T.g, T.gone, sgd], TypeError, /^sgdUpdate: momentumBuf \(argument 3\) was disposed/],
  ['adamUpdate', () => [T.p, T.g, T.s1, T.s2, null, { ...adam, beta1: 1 }], RangeError, /^adamUpdate: betas must be in \[0, 1\), got beta1 1, beta2 0.999/],
  ['adamUpdate', () => [T.p, T.g, T.s1, T.s2, null, { ...adam, step: 0 }], RangeError, /^adamUpdate: option step must be in \[1, [^\]]+\], got 0/],
  ['adamUpdate', () => [T.p, T.g, T.s1, T.s2, null, { ...adam, eps: NaN }], RangeError, /^adamUpdate: option eps must be finite, got nan/],
  ['adamUpdate', () => [T.p, T.g, T.s1, T.s2, null, { ...adam, amsgrad: true }], RangeError, /^adamUpdate: amsgrad needs a maxExpAvgSq like param float32\[5,7\], got null/],
  ['adamUpdate', () => [T.p, T.gbad, T.s1, T.s2, null, adam], RangeError, /^adamUpdate: param and grad must have the same shape, got float32\[5,7\] and float32\[7,5\]/],
  ['adamUpdate', () => [T.p, T.p, T.s1, T.s2, null, adam], RangeError, /^adamUpdate: param and grad must not share storage/],
  ['adagradUpdate', () => [T.p, T.g, T.s1, { ...adagrad, eps: 0 }], RangeError, /^adagradUpdate: option eps must be > 0, got 0/],
  ['adagradUpdate', () => [T.p, T.g, T.s1, { ...adagrad, lrDecay: Infinity }], RangeError, /^adagradUpdate: option lrDecay must be finite, got inf/],
  // data
  ['loadBatch', () => [T.ds, T.ixBad, T.batch, batch], RangeError, /^loadBatch: indices\[1\] = 13 is out of range \[0, 13\)/],
  ['loadBatch', () => [T.ds, T.ixNeg, T.batch, batch], RangeError, /^loadBatch: indices\[0\] = -4 is out of range \[0, 13\)/],
  ['loadBatch', () => [T.ds, T.ix, T.batch, { ...batch, mean: [0.5, 0.5] }], RangeError, /^loadBatch: mean and std must both be empty or have C = 3 entries for dataset uint8\[13,3,8,9\], got 2 and 3/],
  ['loadBatch', () => [T.ds, T.ix, T.batch, { ...batch, padMode: 'edge' }], RangeError, /^loadBatch: option padMode must be 'zero' or 'reflect', got 'edge'/],
  ['loadBatch', () => [T.ds, T.ix, T.batch, { ...batch, std: [0.25, 0, 0.25] }], RangeError, /^loadBatch: std\[1\] must be > 0, got 0/],
  ['loadBatch', () => [T.ds, T.ix, T.batchBad, batch], RangeError, /^loadBatch: out must have shape \[2,3,8,9\], got float32\[2,3,9,8\]/],
  ['loadBatch', () => [T.dsF, T.ix, T.batch, batch], TypeError, /^loadBatch: dataset must be uint8, got float32\[13,3,8,9\]/],
  ['loadBatch', () => [T.ds, T.ix, T.batch, { ...batch, padMode: 'reflect', cropPad: 8 }], RangeError, /^loadBatch: reflect padding of 8 needs images larger than that, got dataset uint8\[13,3,8,9\]/],
  ['loadBatch', () => [T.ds, T.ix, T.batch, { ...batch, seed: 1.5 }], RangeError, /^loadBatch: option seed must be an integer, got 1.5/],
  ['loadBatch', () => [T.ds, T.ix, T.batch, { ...batch, cropPad: -1 }], RangeError, /^loadBatch: option cropPad must be in \[0, 65536\], got -1/],
  ['gatherLabels', () => [T.labelsF, T.ix, T.out2], TypeError, /^gatherLabels: labels must be uint8 or int32, got float32\[4\]/],
  ['gatherLabels', () => [T.lab8, T.ixBad, T.out2], RangeError, /^gatherLabels: indices\[1\] = 13 is out of range \[0, 13\)/],
];

describe('malformed calls to the ops throw named errors (cpu)', () => {
  it('has a table of at least 40 cases', () => expect(table.length).toBeGreaterThanOrEqual(40));
  table.forEach(([op, args, cls, msg], k) => {
    it(`${k}: ${op} ${msg.source.slice(0, 70)}`, () => {
      let err: unknown;
      try {
        n[op](...args());
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(cls);
      expect((err as Error).message).toMatch(msg);
    });
  });
  it('the ops still work after all those errors', () => {
    const y = native.empty('cpu', [2, 16, 4, 4], 'float32');
    native.maxPool2dForward(T.x, y, null, pool);
    expect((native.toArray(y) as Float32Array).every(Number.isFinite)).toBe(true);
    y.dispose();
  });
});

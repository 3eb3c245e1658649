// TF32 (native.setTf32(true), or VGG_CIFAR_TF32=1 at start-up): convolutions and GEMMs may round their inputs to TF32's 10-bit mantissa
// (relative rounding error <= 2^-11 ~ 4.9e-4 per operand, so ~1e-3 per product). Errors of random sign
// partly cancel in the sums; a norm-wise bound of 5e-3 leaves room for sums of up to ~600 products
// (3x3x64) without admitting a wrong result (which is off by O(1)).
import { afterAll, beforeAll, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { f32, rand } from '../helpers/check.js';
import { describeGpu, parity } from './parity.js';

const TF32_RTOL = 5e-3;
const FP32_RTOL = 1e-4;
const randT = (shape: number[], seed: number) => ({ shape, data: f32(rand(shape.reduce((a, b) => a * b, 1), seed)) });

describeGpu('cuda with TF32 on', () => {
  beforeAll(() => native.setTf32(true));
  afterAll(() => native.setTf32(false));

  it('conv2d and linear stay within the TF32 tolerance of the cpu', () => {
    const p = { strideH: 1, strideW: 1, padH: 1, padW: 1 };
    parity({ x: { ...randT([8, 64, 16, 16], 1), act: true }, w: randT([64, 64, 3, 3], 2), y: { shape: [8, 64, 16, 16], act: true } }, ['y'],
      (t) => native.conv2dForward(t.x!, t.w!, null, t.y!, p, false), TF32_RTOL);
    parity({ dy: { ...randT([8, 64, 16, 16], 3), act: true }, w: randT([64, 64, 3, 3], 4), dx: { shape: [8, 64, 16, 16], act: true } }, ['dx'],
      (t) => native.conv2dBackwardData(t.dy!, t.w!, t.dx!, p), TF32_RTOL);
    parity({ x: randT([64, 512], 5), w: randT([256, 512], 6), y: { shape: [64, 256] } }, ['y'],
      (t) => native.linearForward(t.x!, t.w!, null, t.y!, false), TF32_RTOL);
  });

  it('switching TF32 off again after the context started restores fp32 parity', () => {
    native.setTf32(false);
    const p = { strideH: 1, strideW: 1, padH: 1, padW: 1 };
    parity({ x: { ...randT([4, 64, 8, 8], 7), act: true }, w: randT([64, 64, 3, 3], 8), y: { shape: [4, 64, 8, 8], act: true } }, ['y'],
      (t) => native.conv2dForward(t.x!, t.w!, null, t.y!, p, false), FP32_RTOL);
    parity({ x: randT([64, 512], 9), w: randT([256, 512], 10), y: { shape: [64, 256] } }, ['y'],
      (t) => native.linearForward(t.x!, t.w!, null, t.y!, false), FP32_RTOL);
    native.setTf32(true);
  });
});

// bf16 mixed precision, op by op, against the float64 references on the same bf16-rounded inputs.
//
// Tolerances: the inputs are rounded to bf16 once (by native.cast, checked bit for bit in
// cast.test.ts) and the reference uses exactly those values, so products are exact on both sides and
// the only differences are fp32 accumulation order and the final rounding of a bf16 output: half a
// bf16 ulp, at most 2^-8 (3.9e-3) of the element (8 significant bits), so at most 2^-8 of max|ref|
// norm-wise. BF16_RTOL = 2^-7 (one ulp) leaves room for the fp32 accumulation order. fp32 outputs (dw, db, dgamma, dbeta, BatchNorm's statistics) only see fp32 accumulation: 1e-4.
// Max pooling and ReLU select values and are exact.
import { describe, expect, it } from 'vitest';
import { native, type Device, type Layout, type NativeTensor } from '../../lib/backend.js';
import { toFloat32 } from '../../lib/tensor.js';
import { expectClose, rand, testDevices } from '../helpers/check.js';
import { convBackwardDataRef, convBackwardFilterRef, convForwardRef, convOut, type ConvShape } from '../ref/conv.js';
import { linearBackwardRef, linearForwardRef } from '../ref/linear.js';
import { maxPoolBackwardRef, maxPoolRef, poolOutShape } from '../ref/pool.js';
import { batchNormBackwardRef, batchNormRef } from '../ref/batchnorm.js';
import { dropoutMaskRef, dropoutRef, reluBackwardRef, reluRef } from '../ref/elementwise.js';

const BF16_RTOL = 2 ** -7;
const F32_RTOL = 1e-4;

/** data rounded to bf16 (the values the op sees) and a bf16 tensor holding them in `layout`. */
function bf16In(device: Device, dims: number[], data: ArrayLike<number>, layout: Layout = 'plain'): { t: NativeTensor; v: Float32Array } {
  const f = native.fromArray(device, dims, Float32Array.from(data));
  const plain = native.empty(device, dims, 'bfloat16');
  native.cast(f, plain);
  native.cast(plain, f);
  const v = native.toArray(f) as Float32Array;
  f.dispose();
  if (layout === 'plain') return { t: plain, v };
  const t = native.empty(device, dims, 'bfloat16', layout);
  native.copy(plain, t);
  plain.dispose();
  return { t, v };
}

/** A float32 or bf16 tensor's values, in plain NCHW order. */
const values = toFloat32;

const act = (device: Device, dims: number[], layout: 'preferred' | 'plain'): Layout =>
  layout === 'plain' ? 'plain' : native.preferredLayout(device, dims, 'bfloat16');

const disposeAll = (...ts: Array<NativeTensor | null>) => ts.forEach((t) => t?.dispose());

for (const device of testDevices()) {
  describe(`bf16 ops (${device})`, () => {
    it('keeps 4-D bf16 activations in nhwc and fp32 ones as before', () => {
      expect(native.preferredLayout(device, [2, 64, 8, 8], 'bfloat16')).toBe('nhwc');
      expect(native.preferredLayout(device, [2, 64, 8, 8])).toBe(native.preferredLayout(device, [2, 64, 8, 8], 'float32'));
      expect(native.preferredLayout(device, [2, 64], 'bfloat16')).toBe('plain');
    });

    // A mid-size map on the direct kernels in the preferred (nhwc) and in plain layout; small maps with
    // many channels, which run as im2col + GEMM (all three directions; conv_gemm.cc); the 3-channel
    // first layer, which reads a plain input.
    for (const s of [
      { N: 2, C: 16, H: 9, W: 9, O: 32, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 },
      { N: 2, C: 16, H: 9, W: 9, O: 32, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, plain: true },
      { N: 2, C: 256, H: 2, W: 2, O: 16, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 },
      { N: 2, C: 256, H: 4, W: 4, O: 24, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 },
      { N: 3, C: 256, H: 5, W: 6, O: 16, kh: 3, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 1 },
      { N: 2, C: 3, H: 8, W: 8, O: 16, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 },
    ]) {
      it(`conv2d ${s.C} channels on ${s.H}x${s.W} (kernel ${s.kh}x${s.kw}, stride ${s.strideH}, pad ${s.padH}/${s.padW}${'plain' in s ? ', plain layout' : ''}): three directions, fp32 and bf16 dw`, () => {
        const p = { strideH: s.strideH, strideW: s.strideW, padH: s.padH, padW: s.padW };
        const { Ho, Wo } = convOut(s);
        const xd = [s.N, s.C, s.H, s.W], yd = [s.N, s.O, Ho, Wo], wd = [s.O, s.C, s.kh, s.kw];
        const layout = 'plain' in s ? 'plain' : 'preferred';
        const xl = s.C === 3 ? 'plain' : act(device, xd, layout);
        const x = bf16In(device, xd, rand(s.N * s.C * s.H * s.W, 5), xl);
        const w = bf16In(device, wd, rand(s.O * s.C * s.kh * s.kw, 6, -0.2, 0.2));
        const dy = bf16In(device, yd, rand(s.N * s.O * Ho * Wo, 7), act(device, yd, layout));
        const bias = rand(s.O, 8);
        const b = native.fromArray(device, [s.O], Float32Array.from(bias));
        const y = native.empty(device, yd, 'bfloat16', act(device, yd, layout));
        native.conv2dForward(x.t, w.t, b, y, p, true);
        expectClose(values(y), convForwardRef(s, x.v, w.v, bias, true), BF16_RTOL, 'conv forward');
        const dx = native.empty(device, xd, 'bfloat16', xl);
        native.conv2dBackwardData(dy.t, w.t, dx, p);
        expectClose(values(dx), convBackwardDataRef(s, dy.v, w.v), BF16_RTOL, 'conv backward-data');
        const dw = native.empty(device, wd, 'float32'), db = native.empty(device, [s.O], 'float32');
        native.conv2dBackwardFilter(x.t, dy.t, dw, db, p);
        const ref = convBackwardFilterRef(s, x.v, dy.v);
        expectClose(values(dw), ref.dw, F32_RTOL, 'conv backward-filter dw');
        expectClose(values(db), ref.db, F32_RTOL, 'conv backward-filter db');
        const dwLow = native.empty(device, wd, 'bfloat16');
        native.conv2dBackwardFilter(x.t, dy.t, dwLow, null, p);
        expectClose(values(dwLow), ref.dw, BF16_RTOL, 'conv backward-filter dw (bf16)');
        disposeAll(x.t, w.t, dy.t, b, y, dx, dw, db, dwLow);
      });
    }

    it('linear forward (bias + ReLU) and backward with fp32 dw and db', () => {
      const N = 6, K = 40, M = 24;
      const x = bf16In(device, [N, K], rand(N * K, 11));
      const w = bf16In(device, [M, K], rand(M * K, 12, -0.3, 0.3));
      const dy = bf16In(device, [N, M], rand(N * M, 13));
      const bias = rand(M, 14);
      const b = native.fromArray(device, [M], Float32Array.from(bias));
      const y = native.empty(device, [N, M], 'bfloat16');
      native.linearForward(x.t, w.t, b, y, true);
      expectClose(values(y), linearForwardRef(N, K, M, x.v, w.v, bias, true), BF16_RTOL, 'linear forward');
      const dx = native.empty(device, [N, K], 'bfloat16'), dw = native.empty(device, [M, K], 'float32'), db = native.empty(device, [M], 'float32');
      native.linearBackward(x.t, w.t, dy.t, dx, dw, db);
      const ref = linearBackwardRef(N, K, M, x.v, w.v, dy.v);
      expectClose(values(dx), ref.dx, BF16_RTOL, 'linear dx');
      expectClose(values(dw), ref.dw, F32_RTOL, 'linear dw (fp32)');
      expectClose(values(db), ref.db, F32_RTOL, 'linear db (fp32)');
      disposeAll(x.t, w.t, dy.t, b, y, dx, dw, db);
    });

    it('max pooling forward and backward are exact', () => {
      const shape = [2, 16, 6, 6], p = { kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 };
      const yd = poolOutShape(shape, p);
      const x = bf16In(device, shape, rand(2 * 16 * 36, 21), act(device, shape, 'preferred'));
      const dy = bf16In(device, yd, rand(yd.reduce((a, b) => a * b), 22), act(device, yd, 'preferred'));
      const y = native.empty(device, yd, 'bfloat16', act(device, yd, 'preferred'));
      const ws = native.empty(device, [native.maxPool2dWorkspaceSize(x.t, y, p)], 'uint8');
      native.maxPool2dForward(x.t, y, ws, p);
      const ref = maxPoolRef(x.v, shape, p);
      expect(Array.from(values(y))).toEqual(Array.from(ref.y));
      const dx = native.empty(device, shape, 'bfloat16', act(device, shape, 'preferred'));
      native.maxPool2dBackward(dy.t, x.t, y, ws, dx, p);
      expect(Array.from(values(dx))).toEqual(Array.from(maxPoolBackwardRef(dy.v, ref.arg, x.v.length)));
      disposeAll(x.t, dy.t, y, ws, dx);
    });

    it('ReLU is exact and dropout drops the same elements as in fp32, in nhwc', () => {
      const shape = [2, 24, 5, 5], n = 2 * 24 * 25, layout = act(device, shape, 'preferred');
      const x = bf16In(device, shape, rand(n, 31), layout);
      const dy = bf16In(device, shape, rand(n, 32), layout);
      const y = native.empty(device, shape, 'bfloat16', layout), dx = native.empty(device, shape, 'bfloat16', layout);
      native.reluForward(x.t, y);
      expect(Array.from(values(y))).toEqual(Array.from(reluRef(x.v)));
      native.reluBackward(y, dy.t, dx);
      expect(Array.from(values(dx))).toEqual(Array.from(reluBackwardRef(values(y), dy.v)));
      const mask = native.empty(device, shape, 'uint8'), p = 0.3, seed = 77;
      native.dropoutForward(x.t, mask, y, p, seed);
      const want = dropoutMaskRef(n, p, seed);
      expect(Array.from(native.toArray(mask) as Uint8Array)).toEqual(Array.from(want));
      expectClose(values(y), dropoutRef(x.v, want, p), BF16_RTOL, 'dropout forward');
      native.dropoutBackward(dy.t, mask, dx, p);
      expectClose(values(dx), dropoutRef(dy.v, want, p), BF16_RTOL, 'dropout backward');
      disposeAll(x.t, dy.t, y, dx, mask);
    });

    for (const C of [32, 12]) {
      it(`batch norm train forward (+ fused ReLU), backward and eval with fp32 statistics, C=${C}`, () => {
        const shape = [3, C, 5, 5], n = 3 * C * 25, layout = act(device, shape, 'preferred');
        const x = bf16In(device, shape, rand(n, 41, -2, 3), layout);
        const dy = bf16In(device, shape, rand(n, 42), layout);
        const g = rand(C, 43, 0.5, 1.5), be = rand(C, 44);
        const vec = (v: ArrayLike<number>) => native.fromArray(device, [C], Float32Array.from(v));
        const gamma = vec(g), beta = vec(be), rm = vec(new Float64Array(C).fill(0.1)), rv = vec(new Float64Array(C).fill(0.9));
        const sm = native.empty(device, [C], 'float32'), si = native.empty(device, [C], 'float32');
        const y = native.empty(device, shape, 'bfloat16', layout);
        native.batchNorm2dForward(x.t, gamma, beta, rm, rv, y, sm, si, { training: true, momentum: 0.1, eps: 1e-5 });
        const ref = batchNormRef(x.v, shape, g, be, new Float64Array(C).fill(0.1), new Float64Array(C).fill(0.9), true, 0.1, 1e-5);
        expectClose(values(y), ref.y, BF16_RTOL, 'batch norm y');
        expectClose(values(sm), ref.mean, F32_RTOL, 'saveMean');
        expectClose(values(si), ref.invStd, F32_RTOL, 'saveInvStd');
        expectClose(values(rv), ref.runningVar, F32_RTOL, 'runningVar');
        native.batchNorm2dForward(x.t, gamma, beta, rm, rv, y, sm, si, { training: true, momentum: 0.1, eps: 1e-5, relu: true });
        expectClose(values(y), reluRef(ref.y), BF16_RTOL, 'batch norm y with fused ReLU');
        const dx = native.empty(device, shape, 'bfloat16', layout), dg = native.empty(device, [C], 'float32'), dbeta = native.empty(device, [C], 'float32');
        native.batchNorm2dBackward(x.t, dy.t, gamma, sm, si, dx, dg, dbeta, 1e-5);
        const bref = batchNormBackwardRef(x.v, shape, dy.v, g, ref.mean, ref.invStd);
        expectClose(values(dx), bref.dx, BF16_RTOL, 'batch norm dx');
        expectClose(values(dg), bref.dgamma, F32_RTOL, 'dgamma');
        expectClose(values(dbeta), bref.dbeta, F32_RTOL, 'dbeta');
        const rmNow = values(rm), rvNow = values(rv);
        native.batchNorm2dForward(x.t, gamma, beta, rm, rv, y, sm, si, { training: false, momentum: 0.1, eps: 1e-5 });
        const eref = batchNormRef(x.v, shape, g, be, rmNow, rvNow, false, 0.1, 1e-5);
        expectClose(values(y), eref.y, BF16_RTOL, 'batch norm eval y');
        disposeAll(x.t, dy.t, gamma, beta, rm, rv, sm, si, y, dx, dg, dbeta);
      });
    }

    it('fill and copy bf16 tensors between plain and nhwc', () => {
      const t = native.empty(device, [2, 8, 3, 3], 'bfloat16', 'nhwc');
      native.fill(t, 1.00390625);  // halfway between two bf16 values: rounds to even (1.0)
      expect(new Set(values(t))).toEqual(new Set([1]));
      const x = bf16In(device, [2, 8, 3, 3], rand(144, 51), 'nhwc');
      expect(Array.from(values(x.t))).toEqual(Array.from(x.v));
      disposeAll(t, x.t);
    });

    it('refuses mixed dtypes with a TypeError naming the operand', () => {
      const x = native.empty(device, [1, 8, 4, 4], 'bfloat16', 'nhwc'), w32 = native.empty(device, [8, 8, 3, 3], 'float32');
      const y = native.empty(device, [1, 8, 4, 4], 'bfloat16', 'nhwc'), p = { strideH: 1, strideW: 1, padH: 1, padW: 1 };
      expect(() => native.conv2dForward(x, w32, null, y, p, false)).toThrow(/conv2dForward: w must have the dtype of x \(bfloat16/);
      const xi = native.empty(device, [1, 8, 4, 4], 'int32');
      expect(() => native.reluForward(xi, xi)).toThrow(/reluForward: x must be float32 or bfloat16/);
      const a = native.empty(device, [2, 8], 'bfloat16'), wl = native.empty(device, [4, 8], 'bfloat16'), dyl = native.empty(device, [2, 4], 'bfloat16');
      const dwBad = native.empty(device, [4, 8], 'int32');
      expect(() => native.linearBackward(a, wl, dyl, null, dwBad, null)).toThrow(/linearBackward: dw must be float32 or bfloat16/);
      expect(() => native.linearBackward(a, wl, dyl, null, dwBad, null)).toThrow(TypeError);
      disposeAll(x, w32, y, xi, a, wl, dyl, dwBad);
    });
  });
}

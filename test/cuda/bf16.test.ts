// The bfloat16 activation ops (bf16 mixed precision) on the GPU against the CPU backend, on nhwc bf16
// activations (native.preferredLayout(device, shape, 'bfloat16')) made with native.cast from the same
// float32 data on both devices.
//
// Tolerances. Inputs are rounded to bf16 identically on both sides, and both accumulate in fp32, so the
// fp32 results differ only by summation order (~1e-6 relative). What remains is the rounding of a bf16
// output: two fp32 values a hair apart may round to neighbouring bf16 values (1 ulp), and an op may round
// twice where the other rounds once (the GPU rounds the convolution to bf16, then adds the bias in fp32
// and rounds again; oneDNN may fuse the bias). A bf16 ulp is 2^-7 of its binade's lower end, so at most
// 2^-7 of the value: 2 ulps of the largest output are <= 2^-6 of max|ref| (BF16_RTOL). A wrong result
// (a transposed operand, a wrong channel, a missed element) is off by O(1) of that scale.
// fp32 outputs computed from identical bf16 inputs in fp32 (BatchNorm statistics, bias gradients) keep
// the fp32 tests' 1e-4; an fp32 dw that cuDNN computes in bf16 first (see conv.cc) carries one bf16
// rounding (<= 2^-8 of the value), within BF16_RTOL.
import { expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { f32, rand } from '../helpers/check.js';
import { poolOutShape } from '../ref/pool.js';
import { convCases, describeGpu, distinctPerPlane, gpu, outShape, parity, poolCases } from './parity.js';

const BF16_RTOL = 2 ** -6;
const FP32_RTOL = 1e-4;
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const bf = (shape: number[], seed: number, act = true, lo = -1, hi = 1) =>
  ({ shape, data: f32(rand(numel(shape), seed, lo, hi)), dtype: 'bfloat16' as const, act });
const bfOut = (shape: number[], act = true) => ({ shape, dtype: 'bfloat16' as const, act });
const randT = (shape: number[], seed: number, lo = -1, hi = 1) => ({ shape, data: f32(rand(numel(shape), seed, lo, hi)) });
const out = (shape: number[]) => ({ shape });

describeGpu('cuda bfloat16 ops match the cpu backend', () => {
  it('preferredLayout keeps 4-D bf16 activations nhwc, float32 as before', () => {
    expect(native.preferredLayout(gpu, [2, 8, 4, 4], 'bfloat16')).toBe('nhwc');
    expect(native.preferredLayout(gpu, [2, 8], 'bfloat16')).toBe('plain');
    expect(native.preferredLayout(gpu, [2, 8, 4, 4], 'float32')).toBe(native.preferredLayout(gpu, [2, 8, 4, 4]));
  });

  it.each(convCases)('conv2d forward/backward $x * $w (nhwc bf16, fp32 and bf16 dw)', ({ x, w, p }) => {
    const y = outShape(x, w, p);
    for (const relu of [false, true])
      parity({ x: bf(x, 1), w: bf(w, 2, false), b: randT([w[0]], 3), y: bfOut(y) }, ['y'],
        (t) => native.conv2dForward(t.x!, t.w!, t.b, t.y!, p, relu), BF16_RTOL);
    // The first layer's input may stay plain while its output is nhwc.
    parity({ x: bf(x, 4, false), w: bf(w, 5, false), y: bfOut(y) }, ['y'],
      (t) => native.conv2dForward(t.x!, t.w!, null, t.y!, p, false), BF16_RTOL);
    parity({ dy: bf(y, 6), w: bf(w, 7, false), dx: bfOut(x) }, ['dx'], (t) => native.conv2dBackwardData(t.dy!, t.w!, t.dx!, p), BF16_RTOL);
    parity({ x: bf(x, 8), dy: bf(y, 9), dw: out(w), db: out([w[0]]) }, ['dw', 'db'],
      (t) => native.conv2dBackwardFilter(t.x!, t.dy!, t.dw!, t.db, p), { dw: BF16_RTOL, db: FP32_RTOL });
    parity({ x: bf(x, 10), dy: bf(y, 11), dw: bfOut(w, false) }, ['dw'],
      (t) => native.conv2dBackwardFilter(t.x!, t.dy!, t.dw!, null, p), BF16_RTOL);
  });

  it.each([[5, 7, 3], [32, 512, 10], [3, 4096, 4096]])('linear forward/backward N=%i K=%i M=%i (fp32 dw)', (n, k, m) => {
    for (const relu of [false, true])
      parity({ x: bf([n, k], 21, false), w: bf([m, k], 22, false), b: randT([m], 23), y: bfOut([n, m], false) }, ['y'],
        (t) => native.linearForward(t.x!, t.w!, t.b, t.y!, relu), BF16_RTOL);
    parity({ x: bf([n, k], 24, false), w: bf([m, k], 25, false), dy: bf([n, m], 26, false), dx: bfOut([n, k], false), dw: out([m, k]),
      db: out([m]) }, ['dx', 'dw', 'db'], (t) => native.linearBackward(t.x!, t.w!, t.dy!, t.dx, t.dw!, t.db),
    { dx: BF16_RTOL, dw: BF16_RTOL, db: FP32_RTOL });
  });

  it.each(poolCases)('maxPool2d forward/backward $x (nhwc bf16)', ({ x, p }) => {
    const y = poolOutShape(x, p);
    const specs = { x: { ...bf(x, 0), data: distinctPerPlane(x, 11) }, y: bfOut(y), dy: bf(y, 12), dx: bfOut(x) };
    parity(specs, ['y', 'dx'], (t) => {
      const ws = native.empty(t.x!.device, [Math.max(1, native.maxPool2dWorkspaceSize(t.x!, t.y!, p))], 'uint8');
      native.maxPool2dForward(t.x!, t.y!, ws, p);
      native.maxPool2dBackward(t.dy!, t.x!, t.y!, ws, t.dx!, p);
      ws.dispose();
    }, { y: 0, dx: BF16_RTOL });  // a max is exact; overlapping windows sum gradients in fp32, then round
  });

  it('relu and dropout on nhwc bf16 (the same mask as the cpu, in logical NCHW order)', () => {
    const s = [3, 5, 7, 6];
    parity({ x: bf(s, 31), y: bfOut(s) }, ['y'], (t) => native.reluForward(t.x!, t.y!), 0);
    parity({ y: bf(s, 32), dy: bf(s, 33), dx: bfOut(s) }, ['dx'], (t) => native.reluBackward(t.y!, t.dy!, t.dx!), 0);
    const r = parity({ x: bf(s, 34), mask: { shape: s, dtype: 'uint8' }, y: bfOut(s) }, ['mask', 'y'], (t) =>
      native.dropoutForward(t.x!, t.mask!, t.y!, 0.3, 12345), BF16_RTOL);
    const kept = Array.from(r.cuda.mask).reduce((a, b) => a + b, 0) / r.cuda.mask.length;
    expect(kept).toBeGreaterThan(0.6);
    expect(kept).toBeLessThan(0.8);
    // The mask is the one float32 plain activations of this shape get (the counter is the logical index).
    const plain = parity({ x: randT(s, 34), mask: { shape: s, dtype: 'uint8' }, y: out(s) }, ['mask'], (t) =>
      native.dropoutForward(t.x!, t.mask!, t.y!, 0.3, 12345));
    expect(Array.from(r.cuda.mask)).toEqual(Array.from(plain.cuda.mask));
    parity({ dy: bf(s, 35), mask: { shape: s, dtype: 'uint8', data: r.cpu.mask as Uint8Array }, dx: bfOut(s) }, ['dx'], (t) =>
      native.dropoutBackward(t.dy!, t.mask!, t.dx!, 0.3), BF16_RTOL);
  });

  it.each([[4, 8, 5, 5], [16, 64, 8, 8], [3, 3, 1, 7]])('batchNorm2d training, eval (with and without fused ReLU) and backward [%i, %i, %i, %i] (nhwc bf16)', (...s) => {
    const c = s[1];
    const specs = () => ({ x: bf(s, 41), gamma: randT([c], 42, 0.5, 1.5), beta: randT([c], 43), rm: randT([c], 44), rv: randT([c], 45, 0.5, 2),
      y: bfOut(s), mean: out([c]), invStd: out([c]) });
    const stats = { mean: FP32_RTOL, invStd: FP32_RTOL, rm: FP32_RTOL, rv: FP32_RTOL };
    for (const training of [true, false])
      for (const relu of [false, true])
        parity(specs(), training ? ['y', 'mean', 'invStd', 'rm', 'rv'] : ['y'], (t) =>
          native.batchNorm2dForward(t.x!, t.gamma!, t.beta!, t.rm!, t.rv!, t.y!, t.mean!, t.invStd!, { training, momentum: 0.1, eps: 1e-5, relu }),
        { y: BF16_RTOL, ...stats });
    parity({ ...specs(), dy: bf(s, 46), dx: bfOut(s), dgamma: out([c]), dbeta: out([c]) }, ['dx', 'dgamma', 'dbeta'], (t) => {
      native.batchNorm2dForward(t.x!, t.gamma!, t.beta!, t.rm!, t.rv!, t.y!, t.mean!, t.invStd!, { training: true, momentum: 0.1, eps: 1e-5 });
      native.batchNorm2dBackward(t.x!, t.dy!, t.gamma!, t.mean!, t.invStd!, t.dx!, t.dgamma!, t.dbeta!, 1e-5);
    }, { dx: BF16_RTOL, dgamma: FP32_RTOL, dbeta: FP32_RTOL });
  });

  it('bf16 transfers and copies between plain and nhwc keep every bit (2-byte transposes)', () => {
    const s = [2, 5, 3, 4];
    const bits = Uint16Array.from(rand(numel(s), 81, 0, 65536), (v) => Math.floor(v) & 0xff7f);  // any bits but Inf/NaN
    for (const layout of ['plain', 'nhwc'] as const) {
      const a = native.fromArray(gpu, s, bits, 'bfloat16', layout);
      const other = native.empty(gpu, s, 'bfloat16', layout === 'plain' ? 'nhwc' : 'plain');
      native.copy(a, other);
      native.fill(a, 0);
      native.copy(other, a);
      expect(Array.from(native.toArray(other) as Uint16Array)).toEqual(Array.from(bits));
      expect(Array.from(native.toArray(a) as Uint16Array)).toEqual(Array.from(bits));
      a.dispose();
      other.dispose();
    }
  });

  it('dropout on plain 2-D bf16 (the classifier) draws the float32 mask', () => {
    const d = [7, 301];
    const r = parity({ x: bf(d, 36, false), mask: { shape: d, dtype: 'uint8' }, y: bfOut(d, false) }, ['mask', 'y'], (t) =>
      native.dropoutForward(t.x!, t.mask!, t.y!, 0.5, 777), BF16_RTOL);
    const plain = parity({ x: randT(d, 36), mask: { shape: d, dtype: 'uint8' }, y: out(d) }, ['mask'], (t) =>
      native.dropoutForward(t.x!, t.mask!, t.y!, 0.5, 777));
    expect(Array.from(r.cuda.mask)).toEqual(Array.from(plain.cuda.mask));
  });

  it('fill rounds to the nearest bf16 like the cpu (nhwc and plain)', () => {
    for (const layout of ['plain', 'nhwc'] as const) {
      const bits = (device: typeof gpu) => {
        const t = native.empty(device, [2, 3, 2, 2], 'bfloat16', layout);
        native.fill(t, 1.00390625 + 2 ** -9);  // just above the tie between 1 and 1 + 2^-7: rounds up
        const r = Array.from(native.toArray(t) as Uint16Array);
        t.dispose();
        return r;
      };
      expect(new Set(bits('cpu'))).toEqual(new Set([0x3f81]));
      expect(bits(gpu)).toEqual(bits('cpu'));
    }
  });
});

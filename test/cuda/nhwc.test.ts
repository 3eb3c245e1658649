// Our NHWC kernels (native/cuda/batchnorm.cu, pool.cu, the channels-last bias gradient, the cached KRSC
// weights of conv.cc) against the CPU backend: float32 nhwc and bfloat16 at every VGG16 shape, row counts
// that are no multiple of the kernels' blocks, the fused ReLU's mask in the BatchNorm backward, running
// statistics over several steps, and run-to-run identical results (no atomics).
import { expect, it } from 'vitest';
import { native, type DType, type NativeTensor } from '../../lib/backend.js';
import { toFloat32 } from '../../lib/tensor.js';
import { f32, rand } from '../helpers/check.js';
import { poolOutShape } from '../ref/pool.js';
import { describeGpu, distinctPerPlane, gpu, parity, runOn, type Spec } from './parity.js';

const BF16_RTOL = 2 ** -6;
const FP32_RTOL = 1e-4;
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
// VGG16's BatchNorm inputs [C, H=W] on 32x32 images.
const VGG_BN: Array<[number, number]> = [[64, 32], [128, 16], [256, 8], [512, 4], [512, 2]];
const dtypes: DType[] = ['float32', 'bfloat16'];
const rtolOf = (dt: DType) => (dt === 'float32' ? FP32_RTOL : BF16_RTOL);

/** An activation in nhwc on both devices (float32 nhwc too, which neither prefers), from float32 data. */
const act = (shape: number[], seed: number, dtype: DType, lo = -1, hi = 1): Spec => ({ shape, data: f32(rand(numel(shape), seed, lo, hi)), dtype, layout: 'nhwc' });
const actOut = (shape: number[], dtype: DType): Spec => ({ shape, dtype, layout: 'nhwc' });
const vec = (c: number, seed: number, lo = -1, hi = 1): Spec => ({ shape: [c], data: f32(rand(c, seed, lo, hi)) });
const out = (shape: number[]): Spec => ({ shape });

function bnSpecs(s: number[], dtype: DType, seed: number): Record<string, Spec> {
  const c = s[1];
  return { x: act(s, seed, dtype, -2, 3), gamma: vec(c, seed + 1, 0.5, 1.5), beta: vec(c, seed + 2), rm: vec(c, seed + 3), rv: vec(c, seed + 4, 0.5, 2),
    y: actOut(s, dtype), mean: out([c]), invStd: out([c]), dy: act(s, seed + 5, dtype), dx: actOut(s, dtype), dgamma: out([c]), dbeta: out([c]) };
}

/** Training forward with the fused ReLU, then the backward masked by its output (what a BN + ReLU pair runs). */
const bnStep = (t: Record<string, NativeTensor | null>) => {
  native.batchNorm2dForward(t.x!, t.gamma!, t.beta!, t.rm!, t.rv!, t.y!, t.mean!, t.invStd!, { training: true, momentum: 0.1, eps: 1e-5, relu: true });
  native.batchNorm2dBackward(t.x!, t.dy!, t.gamma!, t.mean!, t.invStd!, t.dx!, t.dgamma!, t.dbeta!, 1e-5, t.y);
};

describeGpu('cuda nhwc kernels match the cpu backend', () => {
  for (const dtype of dtypes) {
    it.each(VGG_BN)(`batchNorm2d + ReLU training forward and masked backward, VGG16 shape of %i channels on %i-pixel square maps, batch 6 (${dtype} nhwc)`, (c, hw) => {
      const r = rtolOf(dtype);
      parity(bnSpecs([6, c, hw, hw], dtype, 100 + c + hw), ['y', 'mean', 'invStd', 'rm', 'rv', 'dx', 'dgamma', 'dbeta'], bnStep,
        { y: r, dx: r, mean: FP32_RTOL, invStd: FP32_RTOL, rm: FP32_RTOL, rv: FP32_RTOL, dgamma: FP32_RTOL, dbeta: FP32_RTOL });
    });

    it(`batchNorm2d on row and channel counts that fill no block: [3, 24, 7, 7], [5, 40, 1, 3], [2, 600, 3, 3] (${dtype} nhwc)`, () => {
      const r = rtolOf(dtype);
      for (const s of [[3, 24, 7, 7], [5, 40, 1, 3], [2, 600, 3, 3]])
        parity(bnSpecs(s, dtype, 7 + s[1]), ['y', 'mean', 'invStd', 'rm', 'rv', 'dx', 'dgamma', 'dbeta'], bnStep,
          { y: r, dx: r, mean: FP32_RTOL, invStd: FP32_RTOL, rm: FP32_RTOL, rv: FP32_RTOL, dgamma: FP32_RTOL, dbeta: FP32_RTOL });
    });

    it(`batchNorm2d eval forward and a backward without the ReLU mask (${dtype} nhwc)`, () => {
      const s = [4, 64, 8, 8], r = rtolOf(dtype);
      parity(bnSpecs(s, dtype, 31), ['y'], (t) =>
        native.batchNorm2dForward(t.x!, t.gamma!, t.beta!, t.rm!, t.rv!, t.y!, t.mean!, t.invStd!, { training: false, momentum: 0.1, eps: 1e-3, relu: true }), r);
      parity(bnSpecs(s, dtype, 32), ['dx', 'dgamma', 'dbeta'], (t) => {
        native.batchNorm2dForward(t.x!, t.gamma!, t.beta!, t.rm!, t.rv!, t.y!, t.mean!, t.invStd!, { training: true, momentum: 0.1, eps: 1e-5 });
        native.batchNorm2dBackward(t.x!, t.dy!, t.gamma!, t.mean!, t.invStd!, t.dx!, t.dgamma!, t.dbeta!, 1e-5);
      }, { dx: r, dgamma: FP32_RTOL, dbeta: FP32_RTOL });
    });

    it(`running statistics after 5 training steps on changing batches (${dtype} nhwc)`, () => {
      const s = [8, 128, 16, 16];
      const specs: Record<string, Spec> = { ...bnSpecs(s, dtype, 51) };
      for (let k = 0; k < 5; k++) specs[`x${k}`] = act(s, 60 + k, dtype, -1 + k, 2 + 2 * k);
      parity(specs, ['rm', 'rv'], (t) => {
        for (let k = 0; k < 5; k++)
          native.batchNorm2dForward(t[`x${k}`]!, t.gamma!, t.beta!, t.rm!, t.rv!, t.y!, t.mean!, t.invStd!, { training: true, momentum: 0.1, eps: 1e-5 });
      }, FP32_RTOL);
    });

    it(`batchNorm2d forward and backward are identical run to run (${dtype} nhwc, batch 128 at 32x32)`, () => {
      const specs = bnSpecs([128, 64, 32, 32], dtype, 71);
      const a = runOn(gpu, specs, bnStep), b = runOn(gpu, specs, bnStep);
      for (const k of ['y', 'mean', 'invStd', 'rm', 'rv', 'dx', 'dgamma', 'dbeta']) expect(Array.from(b[k]), k).toEqual(Array.from(a[k]));
    });

    it(`maxPool2d forward/backward at VGG16 shapes, odd maps and overlapping windows (${dtype} nhwc)`, () => {
      const p2 = { kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 };
      const cases = [
        ...VGG_BN.map(([c, hw]) => ({ x: [4, c, hw, hw], p: p2 })),
        { x: [3, 24, 7, 7], p: p2 },  // the last row and column are in no window: dx 0 there
        { x: [2, 16, 9, 7], p: { kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 } },
        { x: [2, 8, 6, 6], p: { kernelH: 3, kernelW: 2, strideH: 1, strideW: 1, padH: 1, padW: 0 } },
      ];
      for (const { x, p } of cases) {
        const y = poolOutShape(x, p);
        // Distinct values within each plane (no ties): both backends route every gradient alike.
        const xs: Spec = { shape: x, dtype, layout: 'nhwc', data: distinctPerPlane(x, 5 + x[1]) };
        const r = parity({ x: xs, y: actOut(y, dtype), dy: act(y, 6 + x[1], dtype), dx: actOut(x, dtype) }, ['y', 'dx'], (t) => {
          const ws = native.empty(t.x!.device, [Math.max(1, native.maxPool2dWorkspaceSize(t.x!, t.y!, p))], 'uint8');
          native.maxPool2dForward(t.x!, t.y!, ws, p);
          native.maxPool2dBackward(t.dy!, t.x!, t.y!, ws, t.dx!, p);
          ws.dispose();
        }, { y: 0, dx: rtolOf(dtype) });
        expect(r.cuda.dx.some((v) => v === 0) && r.cuda.dx.some((v) => v !== 0), `dx of ${JSON.stringify(x)}`).toBe(true);
      }
    });

    it(`bias gradient of channels-last data: conv db at VGG16's first layer, linear db (${dtype})`, () => {
      const p = { strideH: 1, strideW: 1, padH: 1, padW: 1 };
      const x = [8, 3, 32, 32], w = [64, 3, 3, 3], y = [8, 64, 32, 32];
      parity({ x: act(x, 81, dtype), dy: act(y, 82, dtype), dw: out(w), db: out([64]) }, ['db'],
        (t) => native.conv2dBackwardFilter(t.x!, t.dy!, t.dw!, t.db, p), FP32_RTOL);
      parity({ x: { shape: [300, 512], data: f32(rand(300 * 512, 83)), dtype }, w: { shape: [10, 512], data: f32(rand(5120, 84)), dtype },
        dy: { shape: [300, 10], data: f32(rand(3000, 85)), dtype }, dw: out([10, 512]), db: out([10]) }, ['db'],
      (t) => native.linearBackward(t.x!, t.w!, t.dy!, null, t.dw!, t.db), FP32_RTOL);
    });
  }

  it('the cached KRSC weights of a bf16 convolution follow new values and new storage', () => {
    const x = [4, 16, 8, 8], w = [32, 16, 3, 3], p = { strideH: 1, strideW: 1, padH: 1, padW: 1 };
    const run = (device: typeof gpu) => {
      const f = (s: number[], seed: number) => native.fromArray(device, s, f32(rand(numel(s), seed)), 'float32');
      const bf = (t: NativeTensor, layout: 'plain' | 'nhwc') => {
        const b = native.empty(device, t.shape, 'bfloat16', layout);
        native.cast(t, b);
        return b;
      };
      const xf = native.fromArray(device, x, f32(rand(numel(x), 91)), 'float32', 'nhwc');
      const xb = bf(xf, 'nhwc');
      const y = native.empty(device, [4, 32, 8, 8], 'bfloat16', 'nhwc');
      const dx = native.empty(device, x, 'bfloat16', 'nhwc');
      const outs: number[][] = [];
      const w1 = f(w, 92), w2 = f(w, 93);
      let wb = bf(w1, 'plain');
      const step = () => {
        native.conv2dForward(xb, wb, null, y, p, false);
        native.conv2dBackwardData(y, wb, dx, p);
        outs.push(Array.from(toFloat32(y)), Array.from(toFloat32(dx)));
      };
      step();
      native.cast(w2, wb);  // new values in the same storage: the copy must be redone
      step();
      wb.dispose();
      wb = bf(w1, 'plain');  // new storage (maybe at the old address) with the first values again
      step();
      for (const t of [xf, xb, y, dx, w1, w2, wb]) t.dispose();
      return outs;
    };
    const cpu = run('cpu'), cuda = run(gpu);
    for (let i = 0; i < cpu.length; i++) {
      const e = cpu[i], a = cuda[i];
      let num = 0, den = 0;
      for (let j = 0; j < e.length; j++) { num = Math.max(num, Math.abs(a[j] - e[j])); den = Math.max(den, Math.abs(e[j])); }
      expect(num / den, `output ${i}`).toBeLessThanOrEqual(BF16_RTOL);
    }
    expect(cuda[2]).not.toEqual(cuda[0]);  // the second weights gave other outputs
    expect(cuda[4]).toEqual(cuda[0]);      // the first weights again, in new storage: the same y
  });
});

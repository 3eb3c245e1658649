// The NHWC BatchNorm parity cases against the CPU backend, shared by the test files of each
// VGG_CIFAR_CUDA_NHWC path (nhwc.test.ts: ours, nhwc-cudnn-ex.test.ts: cuDNN's *Ex calls): VGG16's shapes,
// row and channel counts that fill no block, the fused ReLU's mask in the backward, eval forward and an
// unmasked backward, running statistics over several steps; and the BatchNorm and pooling steps compared with
// the CPU that those files and nhwc-auto*.test.ts run.
import { expect, it } from 'vitest';
import { backends, native, type DType, type NativeTensor } from '../../lib/backend.js';
import { f32, rand } from '../helpers/check.js';
import { poolOutShape } from '../ref/pool.js';
import { distinctPerPlane, gpu, parity, runOn, type Spec } from './parity.js';

export const BF16_RTOL = 2 ** -6;
export const FP32_RTOL = 1e-4;
export const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
// VGG16's BatchNorm inputs [C, H=W] on 32x32 images.
export const VGG_BN: Array<[number, number]> = [[64, 32], [128, 16], [256, 8], [512, 4], [512, 2]];
export const dtypes: DType[] = ['float32', 'bfloat16'];
export const rtolOf = (dt: DType) => (dt === 'float32' ? FP32_RTOL : BF16_RTOL);

/** An activation in nhwc on both devices (float32 nhwc too, which neither prefers), from float32 data. */
export const act = (shape: number[], seed: number, dtype: DType, lo = -1, hi = 1): Spec => ({ shape, data: f32(rand(numel(shape), seed, lo, hi)), dtype, layout: 'nhwc' });
export const actOut = (shape: number[], dtype: DType): Spec => ({ shape, dtype, layout: 'nhwc' });
export const vec = (c: number, seed: number, lo = -1, hi = 1): Spec => ({ shape: [c], data: f32(rand(c, seed, lo, hi)) });
export const out = (shape: number[]): Spec => ({ shape });

export function bnSpecs(s: number[], dtype: DType, seed: number): Record<string, Spec> {
  const c = s[1];
  return { x: act(s, seed, dtype, -2, 3), gamma: vec(c, seed + 1, 0.5, 1.5), beta: vec(c, seed + 2), rm: vec(c, seed + 3), rv: vec(c, seed + 4, 0.5, 2),
    y: actOut(s, dtype), mean: out([c]), invStd: out([c]), dy: act(s, seed + 5, dtype), dx: actOut(s, dtype), dgamma: out([c]), dbeta: out([c]) };
}

/** Training forward with the fused ReLU, then the backward masked by its output (what a BN + ReLU pair runs). */
export const bnStep = (t: Record<string, NativeTensor | null>) => {
  native.batchNorm2dForward(t.x!, t.gamma!, t.beta!, t.rm!, t.rv!, t.y!, t.mean!, t.invStd!, { training: true, momentum: 0.1, eps: 1e-5, relu: true });
  native.batchNorm2dBackward(t.x!, t.dy!, t.gamma!, t.mean!, t.invStd!, t.dx!, t.dgamma!, t.dbeta!, 1e-5, t.y);
};

/** A BatchNorm + ReLU training step (bnStep) of shape s on the cpu and the gpu, every output compared. */
export function bnStepMatchesCpu(s: number[], dtype: DType, seed: number): void {
  const r = rtolOf(dtype);
  parity(bnSpecs(s, dtype, seed), ['y', 'mean', 'invStd', 'rm', 'rv', 'dx', 'dgamma', 'dbeta'], bnStep,
    { y: r, dx: r, mean: FP32_RTOL, invStd: FP32_RTOL, rm: FP32_RTOL, rv: FP32_RTOL, dgamma: FP32_RTOL, dbeta: FP32_RTOL });
}

type PoolP = { kernelH: number; kernelW: number; strideH: number; strideW: number; padH: number; padW: number };
/** A max-pooling forward and backward of nhwc x on both devices, compared (y exactly). x's values are distinct
 *  within each plane (no ties), so both backends route every gradient alike. Returns parity's outputs. */
export function poolStepMatchesCpu(x: number[], p: PoolP, dtype: DType, seed: number): ReturnType<typeof parity> {
  const y = poolOutShape(x, p);
  return parity({ x: { shape: x, dtype, layout: 'nhwc', data: distinctPerPlane(x, seed) }, y: actOut(y, dtype), dy: act(y, seed + 1, dtype), dx: actOut(x, dtype) },
    ['y', 'dx'], (t) => {
      const ws = native.empty(t.x!.device, [Math.max(1, native.maxPool2dWorkspaceSize(t.x!, t.y!, p))], 'uint8');
      native.maxPool2dForward(t.x!, t.y!, ws, p);
      native.maxPool2dBackward(t.dy!, t.x!, t.y!, ws, t.dx!, p);
      ws.dispose();
    }, { y: 0, dx: rtolOf(dtype) });
}

/** The path this process's addon reports for NHWC BatchNorm and pooling (status details.nhwc), when the cuda
 *  backend is compiled in: each test file runs in a process of its own, so this is the file's own choice. */
export function nhwcPathReported(): string | undefined {
  const cuda = backends().find((b) => b.device === 'cuda');
  return cuda?.compiled ? (cuda.details as Record<string, string>).nhwc : undefined;
}

/** Registers the BatchNorm cases for one dtype. `identicalRuns`: also require bit-identical results run to
 *  run (our kernels reduce without atomics; cuDNN's PERSISTENT mode need not). */
export function batchNormCases(dtype: DType, opts: { identicalRuns: boolean }): void {
  it.each(VGG_BN)(`batchNorm2d + ReLU training forward and masked backward, VGG16 shape of %i channels on %i-pixel square maps, batch 6 (${dtype} nhwc)`,
    (c, hw) => bnStepMatchesCpu([6, c, hw, hw], dtype, 100 + c + hw));

  it(`batchNorm2d on row and channel counts that fill no block: [3, 24, 7, 7], [5, 40, 1, 3], [2, 600, 3, 3] (${dtype} nhwc)`, () => {
    for (const s of [[3, 24, 7, 7], [5, 40, 1, 3], [2, 600, 3, 3]]) bnStepMatchesCpu(s, dtype, 7 + s[1]);
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

  if (opts.identicalRuns)
    it(`batchNorm2d forward and backward are identical run to run (${dtype} nhwc, batch 128 at 32x32)`, () => {
      const specs = bnSpecs([128, 64, 32, 32], dtype, 71);
      const a = runOn(gpu, specs, bnStep), b = runOn(gpu, specs, bnStep);
      for (const k of ['y', 'mean', 'invStd', 'rm', 'rv', 'dx', 'dgamma', 'dbeta']) expect(Array.from(b[k]), k).toEqual(Array.from(a[k]));
    });
}

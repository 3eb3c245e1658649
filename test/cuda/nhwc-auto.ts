// Shared by the test files of VGG_CIFAR_CUDA_NHWC=auto (nhwc-auto*.test.ts): the tuner's report
// (status details.nhwcTuned) and the BatchNorm and pooling steps it tunes.
import { backends, native, type DType } from '../../lib/backend.js';
import { act, actOut, bnSpecs, bnStep, FP32_RTOL, rtolOf } from './nhwc-batchnorm.js';
import { distinctPerPlane, parity } from './parity.js';

export const POOL_2X2 = { kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 };

/** Each tuned shape's report, by key (e.g. "bfloat16[6,64,8,8]nhwc bn+relu"). */
export function tunedReports(): Map<string, string> {
  const d = backends().find((b) => b.device === 'cuda')!.details as Record<string, string>;
  const m = new Map<string, string>();
  if (d.nhwcTuned === undefined || d.nhwcTuned === 'none yet') return m;
  for (const entry of d.nhwcTuned.split('; ')) {
    const at = entry.indexOf(': ');
    m.set(entry.slice(0, at), entry.slice(at + 2));
  }
  return m;
}

/** The candidate a report picked ("... -> cudnn"). */
export const pickOf = (report: string) => /-> ([\w-]+)/.exec(report)![1];

/** A BatchNorm + ReLU training step on [n, c, hw, hw], on the cpu and the gpu, compared. */
export function bnStepMatchesCpu(s: number[], dtype: DType, seed: number): void {
  const r = rtolOf(dtype);
  parity(bnSpecs(s, dtype, seed), ['y', 'mean', 'invStd', 'rm', 'rv', 'dx', 'dgamma', 'dbeta'], bnStep,
    { y: r, dx: r, mean: FP32_RTOL, invStd: FP32_RTOL, rm: FP32_RTOL, rv: FP32_RTOL, dgamma: FP32_RTOL, dbeta: FP32_RTOL });
}

/** A max-pooling forward and backward of nhwc x (values distinct per plane: no ties), on both devices, compared. */
export function poolStepMatchesCpu(x: number[], p: typeof POOL_2X2, dtype: DType, seed: number): void {
  const y = [x[0], x[1], Math.floor((x[2] + 2 * p.padH - p.kernelH) / p.strideH) + 1, Math.floor((x[3] + 2 * p.padW - p.kernelW) / p.strideW) + 1];
  parity({ x: { shape: x, dtype, layout: 'nhwc', data: distinctPerPlane(x, seed) }, y: actOut(y, dtype), dy: act(y, seed + 1, dtype), dx: actOut(x, dtype) },
    ['y', 'dx'], (t) => {
      const ws = native.empty(t.x!.device, [Math.max(1, native.maxPool2dWorkspaceSize(t.x!, t.y!, p))], 'uint8');
      native.maxPool2dForward(t.x!, t.y!, ws, p);
      native.maxPool2dBackward(t.dy!, t.x!, t.y!, ws, t.dx!, p);
      ws.dispose();
    }, { y: 0, dx: rtolOf(dtype) });
}

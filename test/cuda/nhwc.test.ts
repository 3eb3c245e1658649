// Our NHWC kernels (native/cuda/batchnorm.cu, pool.cu, the channels-last bias gradient, the cached KRSC
// weights of conv.cc) against the CPU backend: float32 nhwc and bfloat16 at every VGG16 shape, row counts
// that are no multiple of the kernels' blocks, the fused ReLU's mask in the BatchNorm backward, running
// statistics over several steps, and run-to-run identical results (no atomics). The BatchNorm cases are
// nhwc-batchnorm.ts's, which nhwc-cudnn-ex.test.ts runs through cuDNN's *Ex calls. Run with
// VGG_CIFAR_CUDA_NHWC=cudnn, this file checks cuDNN's legacy calls on nhwc data instead of our kernels; unset, it
// pins our kernels (the default, auto, may pick another per shape: nhwc-auto.test.ts). The choice is read once per
// process; vitest runs every test file in a process of its own, and the variable is set before the addon loads.
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.VGG_CIFAR_CUDA_NHWC ||= 'ours';
});

import { native, type NativeTensor } from '../../lib/backend.js';
import { toFloat32 } from '../../lib/tensor.js';
import { f32, rand } from '../helpers/check.js';
import { BF16_RTOL, FP32_RTOL, VGG_BN, act, batchNormCases, dtypes, nhwcPathReported, numel, out, poolStepMatchesCpu } from './nhwc-batchnorm.js';
import { describeGpu, gpu, parity } from './parity.js';

describe('VGG_CIFAR_CUDA_NHWC of this file', () => {
  it.skipIf(nhwcPathReported() === undefined)('is the path the addon reports (ours unless the variable says otherwise)', () => {
    expect(nhwcPathReported()).toMatch(new RegExp(`^${process.env.VGG_CIFAR_CUDA_NHWC}: `));
  });
});

describeGpu('cuda nhwc kernels match the cpu backend', () => {
  for (const dtype of dtypes) {
    batchNormCases(dtype, { identicalRuns: true });

    it(`maxPool2d forward/backward at VGG16 shapes, odd maps and overlapping windows (${dtype} nhwc)`, () => {
      const p2 = { kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 };
      const cases = [
        ...VGG_BN.map(([c, hw]) => ({ x: [4, c, hw, hw], p: p2 })),
        { x: [3, 24, 7, 7], p: p2 },  // the last row and column are in no window: dx 0 there
        { x: [2, 16, 9, 7], p: { kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 } },
        { x: [2, 8, 6, 6], p: { kernelH: 3, kernelW: 2, strideH: 1, strideW: 1, padH: 1, padW: 0 } },
      ];
      for (const { x, p } of cases) {
        const r = poolStepMatchesCpu(x, p, dtype, 5 + x[1]);
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

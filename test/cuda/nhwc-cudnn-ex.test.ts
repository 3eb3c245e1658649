// The cudnn-ex candidate for NHWC BatchNorm (VGG_CIFAR_CUDA_NHWC=cudnn-ex: cudnnBatchNormalization*Ex in
// SPATIAL_PERSISTENT mode with the fused ReLU, native/cuda/batchnorm_ex.cc) against the CPU backend: the
// BatchNorm cases of nhwc.test.ts, except run-to-run identity (PERSISTENT mode may reduce with atomics).
// The choice is read once per process; vitest runs every test file in a process of its own (pool
// 'forks', isolated), and the variable is set before the addon is loaded.
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.VGG_CIFAR_CUDA_NHWC = 'cudnn-ex';
});

import { backends, native } from '../../lib/backend.js';
import { toFloat32 } from '../../lib/tensor.js';
import { f32, rand } from '../helpers/check.js';
import { VGG_BN, batchNormCases, bnSpecs, bnStep, dtypes, FP32_RTOL, BF16_RTOL, nhwcPathReported, rtolOf } from './nhwc-batchnorm.js';
import { captureAfterWarmup, describeGpu, expectRel, gpu, make, parity, runOn } from './parity.js';

describe('VGG_CIFAR_CUDA_NHWC=cudnn-ex', () => {
  it.skipIf(nhwcPathReported() === undefined)('reaches this file\'s addon: the status reports the cudnn-ex path', () => {
    expect(nhwcPathReported()).toMatch(/^cudnn-ex/);
  });
});

describeGpu('cudnn-ex BatchNorm matches the cpu backend', () => {
  for (const dtype of dtypes) {
    batchNormCases(dtype, { identicalRuns: false });

    it(`a backward whose op set differs from its forward's runs our kernels from the saved statistics (${dtype} nhwc)`, () => {
      // Forward with the fused ReLU, backward without the mask: the *Ex reserve space does not fit that backward.
      const s = [4, 64, 8, 8], r = rtolOf(dtype);
      parity(bnSpecs(s, dtype, 41), ['dx', 'dgamma', 'dbeta'], (t) => {
        native.batchNorm2dForward(t.x!, t.gamma!, t.beta!, t.rm!, t.rv!, t.y!, t.mean!, t.invStd!, { training: true, momentum: 0.1, eps: 1e-5, relu: true });
        native.batchNorm2dBackward(t.x!, t.dy!, t.gamma!, t.mean!, t.invStd!, t.dx!, t.dgamma!, t.dbeta!, 1e-5);
      }, { dx: r, dgamma: FP32_RTOL, dbeta: FP32_RTOL });
    });
  }

  it.skipIf(gpu !== 'cuda')('a captured BatchNorm + ReLU step replays on new data what the ops compute eagerly: the capture keeps the *Ex reserve space and beta (bf16 nhwc)', () => {
    const s = [16, 64, 16, 16];
    const specs = bnSpecs(s, 'bfloat16', 95);
    const t = Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, make('cuda', v)]));
    const step = () => bnStep(t);
    const g = captureAfterWarmup(step);  // plans and the reserve space come from the eager call
    const x2 = f32(rand(s.reduce((a, b) => a * b, 1), 96, -3, 2));
    const xf = native.fromArray('cuda', s, x2, 'float32', 'nhwc');
    native.cast(xf, t.x);
    native.graphLaunch(g);  // forward and backward on the new x
    const got = Object.fromEntries(['y', 'mean', 'invStd', 'dx', 'dgamma', 'dbeta'].map((k) => [k, t[k].dtype === 'bfloat16' ? toFloat32(t[k]) : native.toArray(t[k]) as Float32Array]));
    const cpu = runOn('cpu', { ...specs, x: { ...specs.x, data: x2 } }, bnStep);  // the replay's x, on the cpu
    for (const k of ['y', 'dx']) expectRel(got[k], cpu[k] as Float32Array, BF16_RTOL, k);
    for (const k of ['mean', 'invStd', 'dgamma', 'dbeta']) expectRel(got[k], cpu[k] as Float32Array, FP32_RTOL, k);
    g.dispose();
    xf.dispose();
    for (const v of Object.values(t)) v.dispose();
  });

  it.skipIf(gpu !== 'cuda')('every VGG16 shape above ran through the *Ex calls or is reported as refused by cuDNN, with its status', () => {
    const d = backends().find((b) => b.device === 'cuda')!.details as Record<string, string>;
    console.log(`cudnn-ex: ${d.nhwcEx}`);
    expect(d.nhwc).toMatch(/^cudnn-ex: /);  // the loaded cuDNN has the *Ex calls
    const [ran, refused] = d.nhwcEx.split('. Backwards without')[0].split('. Refused (our kernels ran): ');
    // Only the op-set test's backwards (one per dtype) found no matching reserve space, when cuDNN refused nothing.
    if (refused === 'none') expect(d.nhwcEx).toMatch(/Backwards without a matching \*Ex forward \(our kernels ran\): 2$/);
    for (const dtype of dtypes)
      for (const [c, hw] of VGG_BN) {
        const key = `${dtype}[6,${c},${hw},${hw}]nhwc bn+relu`;
        const inRan = ran.includes(key), inRefused = refused.includes(`${key} (`);
        expect(inRan !== inRefused, `${key} ran or was refused (exactly one)`).toBe(true);
        if (inRefused) expect(refused).toMatch(new RegExp(`${key.replace(/[[\]+]/g, '\\$&')} \\(cudnn\\w+: .*status \\d+\\)`));
      }
  });
});

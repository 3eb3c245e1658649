// VGG_CIFAR_CUDA_NHWC=auto with the tests' hooks VGG_CIFAR_CUDA_TUNE_PREFER=cudnn and VGG_CIFAR_CUDA_TUNE_CORRUPT=cudnn
// (native/cuda/nhwc_tune.cc): a candidate whose tuning output disagrees with our kernels' is left out, saying which
// output and how far, and is never picked, however it is preferred. Set before the addon loads (one process per file).
import { expect, it, vi } from 'vitest';

vi.hoisted(() => {
  delete process.env.VGG_CIFAR_CUDA_NHWC;
  process.env.VGG_CIFAR_CUDA_TUNE_PREFER = 'cudnn';
  process.env.VGG_CIFAR_CUDA_TUNE_CORRUPT = 'cudnn';
});

import { POOL_2X2, pickOf, tunedReports } from './nhwc-auto.js';
import { bnStepMatchesCpu, poolStepMatchesCpu } from './nhwc-batchnorm.js';
import { describeGpu, gpu } from './parity.js';

describeGpu('VGG_CIFAR_CUDA_NHWC=auto, a candidate that disagrees', () => {
  it.skipIf(gpu !== 'cuda')('is left out with the output it got wrong and never picked, however it is preferred (bfloat16 nhwc)', () => {
    bnStepMatchesCpu([6, 64, 8, 8], 'bfloat16', 61);
    poolStepMatchesCpu([4, 64, 8, 8], POOL_2X2, 'bfloat16', 62);
    const r = tunedReports();
    for (const key of ['bfloat16[6,64,8,8]nhwc bn+relu', 'bfloat16[4,64,8,8]nhwc maxpool 2x2/2x2 pad 0x0']) {
      expect(r.get(key), key).toMatch(/cudnn left out \(disagrees with our kernels: y at relative L2 distance 1 \(tolerance 2e-02\)\)/);
      expect(pickOf(r.get(key)!), key).not.toBe('cudnn');
    }
    // Pooling has no other candidate: ours.
    expect(pickOf(r.get('bfloat16[4,64,8,8]nhwc maxpool 2x2/2x2 pad 0x0')!)).toBe('ours');
  });
});

// VGG_CIFAR_CUDA_NHWC=auto with the tests' hook VGG_CIFAR_CUDA_TUNE_PREFER=cudnn (native/cuda/nhwc_tune.cc): a
// candidate other than our kernels is picked (whatever the times, since it agrees), its pick is reported, and
// the ops that then run through cuDNN's legacy calls still match the cpu. Set before the addon loads (one
// process per test file).
import { expect, it, vi } from 'vitest';

vi.hoisted(() => {
  delete process.env.VGG_CIFAR_CUDA_NHWC;
  process.env.VGG_CIFAR_CUDA_TUNE_PREFER = 'cudnn';
  delete process.env.VGG_CIFAR_CUDA_TUNE_CORRUPT;
});

import { bnStepMatchesCpu, dtypes, poolStepMatchesCpu } from './nhwc-batchnorm.js';
import { POOL_2X2, pickOf, tunedReports } from './nhwc-auto.js';
import { describeGpu, gpu } from './parity.js';

describeGpu('VGG_CIFAR_CUDA_NHWC=auto, VGG_CIFAR_CUDA_TUNE_PREFER=cudnn', () => {
  for (const dtype of dtypes)
    it.skipIf(gpu !== 'cuda')(`BatchNorm and pooling pick cuDNN's legacy calls and match the cpu through them (${dtype} nhwc)`, () => {
      bnStepMatchesCpu([6, 64, 8, 8], dtype, 51);
      bnStepMatchesCpu([6, 64, 8, 8], dtype, 52);  // the second call runs the pick without tuning
      poolStepMatchesCpu([4, 64, 8, 8], POOL_2X2, dtype, 53);
      const r = tunedReports();
      for (const key of [`${dtype}[6,64,8,8]nhwc bn+relu`, `${dtype}[4,64,8,8]nhwc maxpool 2x2/2x2 pad 0x0`]) {
        expect(r.get(key), key).toMatch(/ -> cudnn \(VGG_CIFAR_CUDA_TUNE_PREFER=cudnn\)$/);
        expect(pickOf(r.get(key)!)).toBe('cudnn');
      }
    });
});

// The seed-tensor form of dropoutForward and loadBatch on the GPU: the kernels read the seed from device
// memory (no host sync) and must draw exactly what the seed passed as a number draws.
import { expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { seedTensor } from '../../lib/tensor.js';
import { seedTensorCases } from '../helpers/seed-tensor-cases.js';
import { describeGpu, gpu } from './parity.js';

describeGpu('seed tensors on cuda', () => {
  seedTensorCases(gpu);

  it.skipIf(gpu === 'cpu')('a seed tensor on another device than the op is refused', () => {
    const x = native.empty(gpu, [2, 3], 'float32');
    const mask = native.empty(gpu, [2, 3], 'uint8');
    const y = native.empty(gpu, [2, 3], 'float32');
    const s = seedTensor('cpu');
    native.fill(x, 1);
    expect(() => native.dropoutForward(x, mask, y, 0.5, 1, s)).toThrow(/^dropoutForward: seedTensor is on cpu but the op's tensors are on cuda/);
    for (const t of [x, mask, y, s]) t.dispose();
  });
});

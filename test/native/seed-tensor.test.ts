// dropoutForward and loadBatch with the seed in an int32 [1] tensor (what a replayed CUDA graph reads) equal
// the same calls with the number, on the cpu backend; test/cuda/seed-tensor.test.ts runs the same cases on
// the GPU (skipped there, with the reason, where CUDA is unusable).
import { describe } from 'vitest';
import { seedTensorCases } from '../helpers/seed-tensor-cases.js';

describe('seed tensors on cpu', () => seedTensorCases('cpu'));

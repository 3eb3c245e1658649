// How the training loop reports its use of CUDA graphs (history.graphs), on the CPU where none are used;
// test/cuda/graph-train.test.ts checks graph-replayed runs against eager ones on a GPU.
import { describe, expect, it } from 'vitest';
import { runTraining } from '../../lib/train/loop.js';
import { resolveTrainOptions } from '../../lib/train/options.js';
import { tempDir } from '../data/fixtures.js';
import { writeLearnableDataset } from './fixtures.js';

const data = writeLearnableDataset(tempDir('graphs-data'), 40);

describe('history.graphs', () => {
  it.each(['auto', 'off'] as const)('on the cpu every step runs eagerly, with the reason (graphs: %s)', async (graphs) => {
    const o = resolveTrainOptions({ data, out: tempDir('graphs-run'), backend: 'cpu', model: 'vgg11', widthDivisor: 16, batchNorm: true,
      optimizer: 'adam', lr: 1e-3, batchSize: 48, epochs: 2, seed: 1, report: false, graphs });
    const h = await runTraining(o);
    // 200 training images in batches of 48: 4 full and 1 partial per epoch
    expect(h.graphs).toMatchObject({ eager: 10, captured: 0, replayed: 0, failed: {} });
    expect(h.graphs!.off).toMatch(graphs === 'off' ? /turned off \(graphs: off\)/ : /cpu backend runs each op when called/);
  });
});

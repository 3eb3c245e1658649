// The line `vgg-cifar train` prints at the end about CUDA graphs: on a GPU how the steps ran (or why graphs
// were off), on the cpu nothing.
import { describe, expect, it } from 'vitest';
import { graphsLine } from '../../lib/cli/train.js';
import type { RunInfo } from '../../lib/train/events.js';

const info = (device: 'cpu' | 'cuda') => ({ device } as RunInfo);

describe('graphsLine', () => {
  it('says how many steps were replayed, captured and eager on cuda, and which captures failed', () => {
    expect(graphsLine({ info: info('cuda'), graphs: { eager: 4, captured: 2, replayed: 1944, failed: {}, off: null } }))
      .toBe('CUDA graphs: 1,944 training steps replayed, 2 captured, 4 eager');
    expect(graphsLine({ info: info('cuda'), graphs: { eager: 1950, captured: 0, replayed: 0, failed: { 'training batch 128': 'conv2dForward: finding a convolution algorithm cannot be captured' }, off: null } }))
      .toMatch(/^CUDA graphs: 0 training steps replayed, 0 captured, 1,950 eager; capture failed for training batch 128 \(conv2dForward: finding/);
  });

  it('says why graphs were off on cuda, and prints nothing on the cpu', () => {
    expect(graphsLine({ info: info('cuda'), graphs: { eager: 98, captured: 0, replayed: 0, failed: {}, off: 'CUDA graphs are turned off (VGG_CIFAR_CUDA_GRAPHS=0)' } }))
      .toBe('CUDA graphs: off (CUDA graphs are turned off (VGG_CIFAR_CUDA_GRAPHS=0)); 98 steps ran op by op');
    expect(graphsLine({ info: info('cpu'), graphs: { eager: 98, captured: 0, replayed: 0, failed: {}, off: 'the cpu backend runs each op when called' } })).toBeNull();
    expect(graphsLine({ info: info('cuda') })).toBeNull();
  });
});

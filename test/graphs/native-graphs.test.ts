// The native graph surface where no capture can run (the cpu backend, or no GPU): clear refusals, no
// capture left running, and ops unaffected afterwards.
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';

const cudaUsable = !!native.backends().find((b) => b.device === 'cuda')?.available;

describe('native graph calls without a capturing backend', () => {
  it('graphCaptureBegin on the cpu throws a RangeError naming the op and why', () => {
    expect(() => native.graphCaptureBegin('cpu')).toThrow(/graphCaptureBegin: the cpu backend has no graphs \(CUDA graphs need the cuda backend\)/);
    expect(native.graphCaptureId()).toBe(0);
  });

  it('graphCaptureEnd without a capture and graphLaunch of a non-graph are refused', () => {
    expect(() => native.graphCaptureEnd('cpu')).toThrow(/graphCaptureEnd: no capture is running/);
    const t = native.empty('cpu', [2], 'float32');
    expect(() => native.graphLaunch(t as never)).toThrow(TypeError);
    expect(() => native.graphLaunch({} as never)).toThrow(/graph \(argument 1\) must be a Graph from graphCaptureEnd\(\), got object/);
    expect(() => native.graphCaptureBegin('tpu' as never)).toThrow(/device/);
    t.dispose();
  });

  it('graphCaptureAbort without a capture does nothing, and ops run as before', () => {
    native.graphCaptureAbort('cpu');
    native.graphCaptureAbort('cuda');
    const x = native.fromArray('cpu', [3], Float32Array.of(-1, 2, -3));
    const y = native.empty('cpu', [3], 'float32');
    native.reluForward(x, y);
    expect(Array.from(native.toArray(y))).toEqual([0, 2, 0]);
    x.dispose();
    y.dispose();
  });

  // Where CUDA runs, test/cuda/graphs.test.ts captures for real instead.
  it.skipIf(cudaUsable)('without a usable cuda backend, graphCaptureBegin("cuda") says why', () => {
    expect(() => native.graphCaptureBegin('cuda')).toThrow(/graphCaptureBegin: .*cuda backend/);
    expect(native.graphCaptureId()).toBe(0);
  });
});

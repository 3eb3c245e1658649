// CUDA graphs of the backend's stream (native/cuda/graph.cc, core/capture.h) on a real GPU: a replay
// computes what the ops compute eagerly on the tensors' contents at launch, bumps the versions of what it
// writes, keeps what it uses alive, refuses what cannot be captured (leaving the stream usable), and
// caches of derived data (KRSC weight copies) redo their work in a capture, so a replay after new
// weights uses the new weights.
import { afterEach, describe, expect, it } from 'vitest';
import { native, type NativeGraph, type NativeTensor } from '../../lib/backend.js';
import { toFloat32 } from '../../lib/tensor.js';
import { f32, rand } from '../helpers/check.js';
import { captureAfterWarmup, describeGpu, gpu } from './parity.js';

const dev = 'cuda' as const;
const made: Array<NativeTensor | NativeGraph> = [];
const keep = <T extends NativeTensor | NativeGraph>(t: T): T => { made.push(t); return t; };
const from = (data: Float32Array, shape = [data.length]) => keep(native.fromArray(dev, shape, data));
const out = (shape: number[], dtype: 'float32' | 'bfloat16' = 'float32', layout: 'plain' | 'nhwc' = 'plain') => keep(native.empty(dev, shape, dtype, layout));
const read = (t: NativeTensor) => Array.from(t.dtype === 'bfloat16' ? toFloat32(t) : (native.toArray(t) as Float32Array));

afterEach(() => {
  native.graphCaptureAbort(dev);
  for (const t of made.splice(0)) t.dispose();
});

/** Captures `body` (run once eagerly first, as StepGraphs does). */
const capture = (body: () => void): NativeGraph => keep(captureAfterWarmup(body));

// Graph capture is CUDA's alone: cpu against cpu (VGG_CIFAR_GPU_TESTS_ON_CPU=1) has nothing to run here.
if (gpu === 'cpu') console.log('cuda graphs: skipped with VGG_CIFAR_GPU_TESTS_ON_CPU=1 (the CPU backend captures no graphs)');
(gpu === 'cpu' ? describe.skip : describeGpu)('cuda graphs', () => {
  it('a replay computes on what the tensors hold at launch, and bumps the versions of what it writes', () => {
    const x = from(f32(rand(1000, 1, -1, 1)));
    const y = out([1000]);
    const z = from(f32(rand(1000, 2, -1, 1)));
    const g = capture(() => {
      native.reluForward(x, y);
      native.axpby(y, z, 2, 0.5);
    });
    expect(g.nodes).toBeGreaterThanOrEqual(2);
    for (let step = 0; step < 3; step++) {
      const xs = f32(rand(1000, 10 + step, -1, 1));
      native.write(x, xs);
      const z0 = read(z);
      const vy = y.version;
      const vz = z.version;
      const vx = x.version;
      native.graphLaunch(g);
      const ys = read(y);
      expect(ys).toEqual(Array.from(xs, (v) => Math.max(0, v)));
      expect(read(z)).toEqual(z0.map((v, i) => Math.fround(Math.fround(2 * ys[i]) + Math.fround(0.5 * v))));
      expect(y.version).toBe(vy + 1);
      expect(z.version).toBe(vz + 1);
      expect(x.version).toBe(vx); // only read
    }
  });

  it('refuses what cannot be captured, naming it, and the stream works after the abort', () => {
    const x = from(f32([1, -2, 3]));
    const y = out([3]);
    const cases: Array<[() => void, RegExp]> = [
      [() => native.write(x, f32([4, 5, 6])), /write: a copy from the host cannot be captured in a CUDA graph/],
      [() => native.toArray(x), /toArray: a copy to the host \(a synchronization\) cannot be captured/],
      [() => native.empty(dev, [4], 'float32'), /empty: allocating device memory cannot be captured/],
      [() => native.fromArray('cpu', [1], f32([1])), /cpu: an op on the cpu backend .* cannot be captured/],
      [() => native.timingMark(dev), /timingMark: a timing mark .* cannot be captured/],
      [() => native.graphCaptureBegin(dev), /a capture is already running/],
    ];
    for (const [call, message] of cases) {
      native.graphCaptureBegin(dev);
      native.reluForward(x, y);
      expect(call).toThrow(message);
      native.graphCaptureAbort(dev);
      expect(native.graphCaptureId()).toBe(0);
      native.reluForward(x, y);
      expect(read(y)).toEqual([1, 0, 3]);
    }
  });

  it("a convolution shape's first call (its algorithm search) is refused inside a capture", () => {
    const x = from(f32(rand(2 * 3 * 8 * 8, 3, -1, 1)), [2, 3, 8, 8]);
    const w = from(f32(rand(4 * 3 * 3 * 3, 4, -1, 1)), [4, 3, 3, 3]);
    const y = out([2, 4, 8, 8]);
    native.graphCaptureBegin(dev);
    expect(() => native.conv2dForward(x, w, null, y, { strideH: 1, strideW: 1, padH: 1, padW: 1 }, false)).toThrow(/finding a convolution algorithm/);
  });

  it('a bf16 nhwc convolution replayed after new weights uses the new weights (the KRSC copy is redone in the graph)', () => {
    const shape = [4, 16, 8, 8];
    const x32 = from(f32(rand(4 * 16 * 64, 5, -1, 1)), shape);
    const x = out(shape, 'bfloat16', 'nhwc');
    const w32 = from(f32(rand(8 * 16 * 9, 6, -0.2, 0.2)), [8, 16, 3, 3]);
    const w = out([8, 16, 3, 3], 'bfloat16');
    const y = out([4, 8, 8, 8], 'bfloat16', 'nhwc');
    const yEager = out([4, 8, 8, 8], 'bfloat16', 'nhwc');
    const p = { strideH: 1, strideW: 1, padH: 1, padW: 1 };
    const x32n = out(shape, 'float32', 'nhwc');  // cast keeps the layout: float32 nhwc first
    native.copy(x32, x32n);
    native.cast(x32n, x);
    native.cast(w32, w);
    // eval-like: the weights are not changed inside the graph, so the copy was fresh when it was captured
    const g = capture(() => native.conv2dForward(x, w, null, y, p, false));
    for (let k = 0; k < 3; k++) {
      native.write(w32, f32(rand(8 * 16 * 9, 20 + k, -0.2, 0.2)));
      native.cast(w32, w);
      native.graphLaunch(g);
      native.conv2dForward(x, w, null, yEager, p, false);
      expect(read(y)).toEqual(read(yEager));
    }
  });

  it('keeps the tensors it uses alive after the JS side disposes them, until the graph is disposed', () => {
    const before = native.liveBytes(dev);
    const x = native.fromArray(dev, [1 << 20], f32(rand(1 << 20, 7, -1, 1)));
    const y = native.empty(dev, [1 << 20], 'float32');
    const g = capture(() => native.reluForward(x, y));
    const yView = keep(y.reshape([1 << 20]));
    x.dispose();
    y.dispose();
    expect(native.liveBytes(dev)).toBe(before + 8 * (1 << 20));
    native.fill(yView, -1);
    native.graphLaunch(g);
    expect(read(yView).every((v) => v >= 0)).toBe(true);
    g.dispose();
    expect(g.disposed).toBe(true);
    expect(() => native.graphLaunch(g)).toThrow(/graph \(argument 1\) was disposed/);
    yView.dispose();
    expect(native.liveBytes(dev)).toBe(before);
  });

  it('1,000 replays allocate nothing', () => {
    const x = from(f32(rand(4096, 8, -1, 1)));
    const y = out([4096]);
    // x <- 0.001 relu(x) + 0.999 x stays bounded, so the check for non-finite values means something
    const g = capture(() => { native.reluForward(x, y); native.axpby(y, x, 0.001, 0.999); });
    const live = native.liveBytes(dev);
    for (let i = 0; i < 1000; i++) native.graphLaunch(g);
    expect(read(x).every(Number.isFinite)).toBe(true);
    expect(native.liveBytes(dev)).toBe(live);
  });
});

// Shared by the per-op GPU diagnostics (gpu-ops.ts, gpu-elementwise.ts): deterministic inputs in a dtype
// and layout, and a timer that waits for the device around a batch of calls.
import { native, type Device, type DType, type NativeTensor } from '../lib/backend.js';

/** Pseudo-random values in [-0.5, 0.5) (a linear congruential sequence from `seed`): an activation in
 *  `dtype` and the device's preferred layout, or (activation false) a plain tensor. bf16 comes from a
 *  float32 copy through native.cast. */
export function filledTensor(device: Device, shape: number[], seed: number, dtype: DType, activation: boolean): NativeTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 32 - 0.5;
  }
  const layout = activation ? native.preferredLayout(device, shape, dtype) : 'plain';
  const f = native.fromArray(device, shape, data, 'float32', layout);
  if (dtype === 'float32') return f;
  const t = native.empty(device, shape, dtype, layout);
  native.cast(f, t);
  f.dispose();
  return t;
}

/** Milliseconds per call of fn: 3 untimed calls, then `reps` timed ones between two waits for the device
 *  (every op runs on the backend's one stream, so reading one scalar waits for all before it). */
export function deviceTimer(device: Device, reps: number): { time(fn: () => void): number; dispose(): void } {
  const sink = native.empty(device, [1], 'float32');
  const sync = () => { native.toArray(sink); };
  return {
    time(fn) {
      for (let i = 0; i < 3; i++) fn();
      sync();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < reps; i++) fn();
      sync();
      return Number(process.hrtime.bigint() - t0) / 1e6 / reps;
    },
    dispose: () => sink.dispose(),
  };
}

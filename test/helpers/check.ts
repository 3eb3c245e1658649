// Shared test helpers (tinygrad's test_ops style): seeded random inputs that are never zero, a
// tolerance check that says where it failed, central finite differences, and the devices to test on.
import { backends, native, type Device, type Layout, type NativeTensor } from '../../lib/backend.js';

/** Seeded uniform values in [lo, hi), kept away from 0 (|v| >= 0.05 * max(|lo|,|hi|)). */
export function rand(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  let s = (seed * 2654435761 + 12345) >>> 0;
  const out = new Float64Array(n);
  const floor = 0.05 * Math.max(Math.abs(lo), Math.abs(hi));
  for (let i = 0; i < n; i++) {
    let v = 0;
    do {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      v = lo + (hi - lo) * u;
    } while (Math.abs(v) < floor);
    out[i] = v;
  }
  return out;
}

export function randInt(n: number, seed: number, hi: number): Int32Array {
  const u = rand(n, seed, 0, 1);
  return Int32Array.from(u, (v) => Math.min(hi - 1, Math.floor(v * hi)));
}

export const f32 = (a: ArrayLike<number>): Float32Array => Float32Array.from(a);
export const f64 = (a: ArrayLike<number>): Float64Array => Float64Array.from(a);

/** Norm-wise relative error max|a - e| / max|e| (the measure behind "relative error <= 1e-4"). */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num = Math.max(num, Math.abs(actual[i] - expected[i]));
    den = Math.max(den, Math.abs(expected[i]));
  }
  return den === 0 ? num : num / den;
}

/** Throws with the worst element's index and values when the relative error exceeds rtol. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (Number.isNaN(actual[i]) !== Number.isNaN(expected[i])) throw new Error(`${what}: NaN mismatch at ${i}: ${actual[i]} vs ${expected[i]}`);
  }
  const err = relError(actual, expected);
  if (!(err <= rtol)) {
    let worst = 0;
    for (let i = 0; i < actual.length; i++) if (Math.abs(actual[i] - expected[i]) > Math.abs(actual[worst] - expected[worst])) worst = i;
    throw new Error(`${what}: relative error ${err.toExponential(3)} > ${rtol} (worst at ${worst}: got ${actual[worst]}, expected ${expected[worst]})`);
  }
}

/** Central finite differences of a scalar function at x. */
export function finiteDiff(f: (x: Float64Array) => number, x: Float64Array, eps = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  const y = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    y[i] = x[i] + eps;
    const fp = f(y);
    y[i] = x[i] - eps;
    const fm = f(y);
    y[i] = x[i];
    g[i] = (fp - fm) / (2 * eps);
  }
  return g;
}

/** sum(a * b): the scalar whose gradient with respect to a is b (for checking backwards). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Devices whose backend can run here. CPU always; CUDA when a GPU is usable. */
export function testDevices(): Device[] {
  return backends().filter((b) => b.available).map((b) => b.device);
}

/** Why CUDA tests cannot run here, or null when they can. */
export function cudaUnavailableReason(): string | null {
  const c = backends().find((b) => b.device === 'cuda');
  return c?.available ? null : (c?.reason ?? 'cuda backend missing');
}

/** A float32 tensor on `device` holding `data` (plain NCHW order), stored in `layout`. */
export function tensorIn(device: Device, dims: number[], data: ArrayLike<number>, layout: Layout = 'plain'): NativeTensor {
  const plain = native.fromArray(device, dims, f32(data));
  if (layout === 'plain') return plain;
  const t = native.empty(device, dims, 'float32', layout);
  native.copy(plain, t);
  plain.dispose();
  return t;
}

// float64 references of ReLU, inverted dropout (mask from the RNG's definition) and axpby.
import { rngUniform } from './rng.js';

export const reluRef = (x: ArrayLike<number>): Float64Array => Float64Array.from(x, (v) => (v < 0 ? 0 : v));
export const reluBackwardRef = (y: ArrayLike<number>, dy: ArrayLike<number>): Float64Array => Float64Array.from(dy, (d, i) => (y[i] > 0 ? d : 0));

/** keep[i] = uniform(seed, i) >= p; y = x * keep / (1 - p). */
export function dropoutMaskRef(n: number, p: number, seed: number): Uint8Array {
  const m = new Uint8Array(n);
  const pf = Math.fround(p);
  for (let i = 0; i < n; i++) m[i] = rngUniform(seed, i) >= pf ? 1 : 0;
  return m;
}
export const dropoutRef = (x: ArrayLike<number>, mask: ArrayLike<number>, p: number): Float64Array =>
  Float64Array.from(x, (v, i) => (v * mask[i]) / (1 - p));

export const axpbyRef = (x: ArrayLike<number>, y: ArrayLike<number>, alpha: number, beta: number): Float64Array =>
  Float64Array.from(x, (v, i) => alpha * v + (beta === 0 ? 0 : beta * y[i]));

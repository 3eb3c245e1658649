// WeightAverage (lib/nn/ema.ts) against a float64 reference of the same recurrence, on random weights;
// the swap in and out for evaluation; the update cadence; and its refusals.
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { fromFloat32, type Tensor } from '../../lib/tensor.js';
import { vgg, type Vgg } from '../../lib/models/vgg.js';
import { initialize } from '../../lib/nn/init.js';
import { WeightAverage } from '../../lib/nn/ema.js';
import { rand } from '../helpers/check.js';

const live: Array<{ dispose(): void }> = [];
afterAll(() => live.forEach((t) => t.dispose()));

function model(): Vgg {
  const m = vgg({ depth: 11, widthDivisor: 16, batchNorm: true, classifier: 'linear' });
  initialize(m, { scheme: 'kaiming_normal', mode: 'fan_out', seed: 1 });
  m.build('cpu', [2, 3, 32, 32]);
  live.push(m);
  return m;
}

/** Every averaged tensor of the model: parameters, then buffers (BatchNorm running statistics). */
const tensors = (m: Vgg): Array<[string, Tensor]> => [...m.parameters().map((p) => [p.name, p.value] as [string, Tensor]),
  ...m.buffers().map((b) => [b.name, b.value] as [string, Tensor])];

/** Writes fresh random values (never zeros; variances positive) into every averaged tensor; returns them in float64. */
function scramble(m: Vgg, seed: number): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  tensors(m).forEach(([name, t], i) => {
    const v = Float32Array.from(name.endsWith('running_var') ? rand(t.size, seed * 1000 + i, 0.5, 1.5) : rand(t.size, seed * 1000 + i));
    native.write(t, v);
    out.set(name, Float64Array.from(v));
  });
  return out;
}

const read = (t: Tensor) => Float64Array.from(native.toArray(t) as Float32Array);

describe('WeightAverage', () => {
  it('follows avg = d·avg + (1 − d)·w with the warm-up decay min(decay^every, (1+u)/(10+u)), weights and BatchNorm statistics alike', () => {
    const m = model();
    const ema = new WeightAverage(m, { decay: 0.9, every: 2 });
    live.push(ema);
    let ref = scramble(m, 1);
    expect(ema.names).toEqual(tensors(m).map(([n]) => n));
    expect(ema.names.some((n) => n.endsWith('running_var'))).toBe(true);
    expect(ema.names.some((n) => n.endsWith('num_batches_tracked'))).toBe(false);
    for (let u = 0; u < 12; u++) {
      const d = Math.min(0.9 ** 2, (1 + u) / (10 + u));
      expect(ema.nextDecay()).toBeCloseTo(d, 12);
      const w = scramble(m, 2 + u);
      ema.update();
      const next = new Map<string, Float64Array>();
      for (const [name, a] of ref) next.set(name, a.map((x, i) => d * x + (1 - d) * w.get(name)![i]));
      ref = next;
    }
    expect(ema.updates).toBe(12);
    const averaged = ema.withAveraged(() => new Map(tensors(m).map(([n, t]) => [n, read(t)])));
    let worst = 0;
    for (const [name, want] of ref) {
      const got = averaged.get(name)!;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1e-3, Math.abs(want[i])));
    }
    expect(worst).toBeLessThan(1e-4);
  });

  it('withAveraged puts the average in and the trained weights back bit for bit, also when the callback throws', () => {
    const m = model();
    const ema = new WeightAverage(m, { decay: 0.5, every: 1 });
    live.push(ema);
    scramble(m, 20);
    ema.update();
    scramble(m, 21);
    ema.update();
    const trained = tensors(m).map(([, t]) => read(t));
    const versions = tensors(m).map(([, t]) => t.version);
    const inside = ema.withAveraged(() => tensors(m).map(([, t]) => read(t)));
    expect(inside.some((a, i) => a.some((x, j) => x !== trained[i][j]))).toBe(true);
    // the copies count as writes: a bf16 copy of a weight is cast again
    tensors(m).forEach(([, t], i) => expect(t.version).toBeGreaterThan(versions[i]));
    expect(tensors(m).map(([, t]) => read(t))).toEqual(trained);
    expect(() => ema.withAveraged(() => { throw new Error('boom'); })).toThrow('boom');
    expect(tensors(m).map(([, t]) => read(t))).toEqual(trained);
    expect(() => ema.withAveraged(() => ema.update())).toThrow(/inside withAveraged/);
    expect(tensors(m).map(([, t]) => read(t))).toEqual(trained);
  });

  it('evaluates the averaged weights: a forward inside withAveraged equals the forward of a model holding the average', () => {
    const m = model();
    const ema = new WeightAverage(m, { decay: 0.7, every: 1 });
    live.push(ema);
    for (let s = 0; s < 3; s++) {
      scramble(m, 40 + s);
      ema.update();
    }
    m.eval();
    const x = fromFloat32('cpu', [2, 3, 32, 32], Float32Array.from(rand(2 * 3 * 32 * 32, 77)));
    live.push(x);
    const viaSwap = ema.withAveraged(() => read(m.forward(x)));
    expect(viaSwap.every(Number.isFinite)).toBe(true);
    expect(viaSwap).not.toEqual(read(m.forward(x)));
    const averaged = ema.withAveraged(() => tensors(m).map(([, t]) => native.toArray(t) as Float32Array));
    const other = model();
    tensors(other).forEach(([, t], i) => native.write(t, averaged[i]));
    other.eval();
    expect(read(other.forward(x))).toEqual(viaSwap);
  });

  it('afterStep updates every `every` steps; resetTo restarts from the weights with a given count', () => {
    const m = model();
    const ema = new WeightAverage(m, { decay: 0.99, every: 5 });
    live.push(ema);
    for (let step = 1; step <= 23; step++) ema.afterStep(step);
    expect(ema.updates).toBe(4);
    scramble(m, 60);
    const now = tensors(m).map(([, t]) => read(t));
    ema.resetTo(9);
    expect(ema.updates).toBe(9);
    scramble(m, 61);
    expect(ema.withAveraged(() => tensors(m).map(([, t]) => read(t)))).toEqual(now);
  });

  it('refuses a decay outside (0, 1) and a non-integer cadence, naming them', () => {
    const m = model();
    expect(() => new WeightAverage(m, { decay: 1 })).toThrow(/decay must be in \(0, 1\), got 1/);
    expect(() => new WeightAverage(m, { decay: 0 })).toThrow(/decay/);
    expect(() => new WeightAverage(m, { decay: 0.9, every: 0 })).toThrow(/every must be a positive integer, got 0/);
    expect(() => new WeightAverage(m, { decay: 0.9, every: 1.5 })).toThrow(/every/);
  });
});

// Initialization: each scheme's distribution (bounds, spread) from torch.nn.init's formulas,
// determinism per seed, and what is left alone (biases per option, BatchNorm reset).
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { vgg } from '../../lib/models/vgg.js';
import { initialize, type InitScheme } from '../../lib/nn/init.js';
import { Rng } from '../../lib/nn/rng.js';
import { stateDict } from '../../lib/nn/state.js';
import type { Module } from '../../lib/nn/module.js';

const models: Module[] = [];
afterAll(() => models.forEach((m) => m.dispose()));
const make = () => {
  const m = vgg({ depth: 11, batchNorm: true });
  models.push(m);
  return m;
};
const get = (m: Module, name: string) => stateDict(m).get(name)!.data as Float32Array;
const std = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
const maxAbs = (a: Float32Array) => a.reduce((s, v) => Math.max(s, Math.abs(v)), 0);

describe('initialize', () => {
  // net.4 is Conv2d(64, 128): fan_in 576, fan_out 1152; the first Linear is 512 -> 100.
  const fanIn = 64 * 9, fanOut = 128 * 9;
  const cases: Array<[InitScheme, 'fan_in' | 'fan_out', number, number | null]> = [
    ['xavier_uniform', 'fan_in', Math.sqrt(2 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut))],
    ['xavier_normal', 'fan_in', Math.sqrt(2 / (fanIn + fanOut)), null],
    ['kaiming_normal', 'fan_out', Math.sqrt(2 / fanOut), null],
    ['kaiming_uniform', 'fan_in', Math.sqrt(2 / fanIn), Math.sqrt(6 / fanIn)],
    ['pytorch_default', 'fan_in', 1 / Math.sqrt(3 * fanIn), 1 / Math.sqrt(fanIn)],
  ];
  for (const [scheme, mode, expectedStd, bound] of cases) {
    it(`${scheme} (${mode}): spread and bounds per torch.nn.init`, () => {
      const m = make();
      initialize(m, { scheme, mode, seed: 3 });
      const w = get(m, 'net.4.weight');
      expect(w.length).toBe(128 * 64 * 9);
      expect(Math.abs(std(w) / expectedStd - 1)).toBeLessThan(0.02);
      if (bound !== null) {
        expect(maxAbs(w)).toBeLessThanOrEqual(bound * (1 + 1e-6));
        expect(maxAbs(w)).toBeGreaterThan(bound * 0.99);
      }
      const bias = get(m, 'net.4.bias');
      if (scheme.startsWith('kaiming')) expect(maxAbs(bias)).toBe(0);
      else {
        expect(maxAbs(bias)).toBeLessThanOrEqual(1 / Math.sqrt(fanIn));
        expect(maxAbs(bias)).toBeGreaterThan(0);
      }
    });
  }

  it('the same seed gives the same weights; another seed different ones', () => {
    const [a, b, c] = [make(), make(), make()];
    initialize(a, { seed: 42 });
    initialize(b, { seed: 42 });
    initialize(c, { seed: 43 });
    const wa = get(a, 'net.0.weight'), wb = get(b, 'net.0.weight'), wc = get(c, 'net.0.weight');
    expect(Array.from(wb)).toEqual(Array.from(wa));
    expect(Array.from(wc)).not.toEqual(Array.from(wa));
  });

  it('resets BatchNorm and zeroes kaiming biases on request', () => {
    const m = make();
    const bn = stateDict(m);
    native.fill(m.parameters().find((p) => p.name === 'net.1.weight')!.value, 7);
    initialize(m, { scheme: 'xavier_uniform', bias: 'zeros', seed: 1 });
    expect(Array.from(get(m, 'net.1.weight'))).toEqual(new Array(64).fill(1));
    expect(Array.from(get(m, 'net.1.running_var'))).toEqual(Array.from(bn.get('net.1.running_var')!.data as Float32Array));
    expect(maxAbs(get(m, 'net.0.bias'))).toBe(0);
    expect(() => initialize(m, { scheme: 'he' as InitScheme })).toThrow(/scheme must be one of/);
  });

  it('Rng: uniform in [0,1), normal with unit spread, state round-trips', () => {
    const r = new Rng(7);
    let s = 0, s2 = 0;
    for (let i = 0; i < 20000; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      const n = r.normal();
      s += n;
      s2 += n * n;
    }
    expect(Math.abs(s / 20000)).toBeLessThan(0.03);
    expect(Math.abs(s2 / 20000 - 1)).toBeLessThan(0.03);
    const st = r.state();
    const a = [r.nextU32(), r.nextU32()];
    expect([Rng.fromState(st).nextU32(), r.nextU32() && 0].slice(0, 1)).toEqual([a[0]]);
    expect(() => r.setState([1, 2, 3])).toThrow(/four uint32/);
  });
});

describe('initialize linearStd (torchvision VGG classifier init)', () => {
  it('draws Linear weights from N(0, linearStd) with zero biases and leaves convolutions to the scheme', () => {
    const m = vgg({ depth: 11, widthDivisor: 8, classifier: 'standard', hidden: 256 });
    initialize(m, { scheme: 'kaiming_normal', mode: 'fan_out', linearStd: 0.01, seed: 4 });
    const lin = m.parameters().find((p) => p.value.shape.length === 2 && p.value.shape[0] === 256)!;
    const w = native.toArray(lin.value) as Float32Array;
    const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.0095);
    expect(std).toBeLessThan(0.0105);
    expect(Array.from(native.toArray(m.parameters().find((p) => p.name === lin.name.replace('weight', 'bias'))!.value)).every((v) => v === 0)).toBe(true);
    const conv = native.toArray(m.parameters().find((p) => p.name === 'net.0.weight')!.value) as Float32Array;
    const cstd = Math.sqrt(conv.reduce((a, v) => a + v * v, 0) / conv.length);
    expect(cstd).toBeGreaterThan(0.05); // kaiming fan_out: sqrt(2 / (8 * 9)) = 0.167
  });
});

// The optimizers' multi-tensor path (one native call per group) and its split into prepareStep() (host:
// step counts, coefficients) and applyStep() (device only, what a CUDA graph replays): bit for bit the
// per-tensor path, the per-tensor fallback for uneven step counts, and state dicts unchanged.
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import type { Param } from '../../lib/nn/module.js';
import { Adagrad, Adam, AdamW, SGD, paramGroups, type BaseOptions, type Optimizer, type ParamState } from '../../lib/optim/index.js';
import { rand } from '../helpers/check.js';
import { expectBitEqual } from '../helpers/optim-multi.js';

const live: Array<{ dispose(): void }> = [];
afterEach(() => live.splice(0).forEach((t) => t.dispose()));

const SIZES = [37, 5, 4099, 1, 300];

function makeParams(): Param[] {
  return SIZES.map((n, i) => {
    const value = native.fromArray('cpu', [n], Float32Array.from(rand(n, 10 + i)));
    const grad = native.empty('cpu', [n], 'float32');
    live.push(value, grad);
    return { name: `net.${i}.${i % 2 ? 'bias' : 'weight'}`, value, grad, weightDecay: i % 2 === 0 };
  });
}

type Make = (ps: Param[]) => Optimizer<BaseOptions>;
const kinds: Array<[string, Make]> = [
  ['sgd momentum nesterov', (ps) => new SGD(paramGroups(ps, { weightDecay: 0.01 }), { lr: 0.1, momentum: 0.9, nesterov: true }) as never],
  ['sgd plain, maximize', (ps) => new SGD(ps, { lr: 0.1, maximize: true }) as never],
  ['sgd dampening', (ps) => new SGD(paramGroups(ps, { weightDecay: 0.01 }), { lr: 0.1, momentum: 0.8, dampening: 0.25 }) as never],
  ['adam amsgrad', (ps) => new Adam(paramGroups(ps, { weightDecay: 0.1 }), { lr: 0.01, amsgrad: true }) as never],
  ['adamw', (ps) => new AdamW(paramGroups(ps, { weightDecay: 0.05 }), { lr: 0.01, beta1: 0.8 }) as never],
  ['adagrad', (ps) => new Adagrad(paramGroups(ps, { weightDecay: 0.001 }), { lr: 0.05, lrDecay: 0.01, initialAccumulatorValue: 0.1 }) as never],
];

function setGrads(ps: Param[], t: number): void {
  ps.forEach((p, i) => native.write(p.grad, Float32Array.from(rand(p.value.size, 1000 * t + i))));
}

/** The optimizer's per-tensor path: what step() did before the multi-tensor updates. */
function perTensorStep(opt: Optimizer<BaseOptions>): void {
  const o = opt as unknown as { state: Map<string, ParamState>; update(p: Param, o: BaseOptions, s: ParamState): void };
  for (const g of opt.groups)
    for (const p of g.params) {
      const s = o.state.get(p.name)!;
      s.step++;
      o.update(p, g.options, s);
    }
}

/** Two optimizers over two identical parameter sets. */
function pair(make: Make): { a: Param[]; b: Param[]; oa: Optimizer<BaseOptions>; ob: Optimizer<BaseOptions> } {
  const a = makeParams();
  const b = makeParams();
  const oa = make(a);
  const ob = make(b);
  live.push(oa, ob);
  return { a, b, oa, ob };
}

function expectSameParams(a: Param[], b: Param[], oa: Optimizer<BaseOptions>, ob: Optimizer<BaseOptions>): void {
  a.forEach((p, i) => expectBitEqual(native.toArray(b[i].value) as Float32Array, native.toArray(p.value) as Float32Array, p.name));
  const sa = oa.stateDict();
  const sb = ob.stateDict();
  expect(sb.steps).toEqual(sa.steps);
  for (const [k, t] of sa.tensors) expectBitEqual(sb.tensors.get(k)!.data as Float32Array, t.data as Float32Array, k);
}

/** Records which native functions run during fn. */
function nativeCalls(fn: () => void): string[] {
  const calls: string[] = [];
  const n = native as unknown as Record<string, unknown>;
  const saved = new Map<string, (...a: unknown[]) => unknown>();
  for (const [k, f] of Object.entries(n)) {
    if (typeof f !== 'function' || k === 'Tensor') continue;
    saved.set(k, f as (...a: unknown[]) => unknown);
    n[k] = (...args: unknown[]) => {
      calls.push(k);
      return (f as (...a: unknown[]) => unknown)(...args);
    };
  }
  try {
    fn();
  } finally {
    for (const [k, f] of saved) n[k] = f;
  }
  return calls;
}

const lrAt = (t: number) => 0.05 * (1 - 0.1 * t);

describe.each(kinds)('%s: the multi-tensor path', (_, make) => {
  it('step() equals the per-tensor path bit for bit over 5 steps with a changing lr', () => {
    const { a, b, oa, ob } = pair(make);
    expect(ob.graphable).toBe(true);
    for (let t = 0; t < 5; t++) {
      setGrads(a, t);
      setGrads(b, t);
      oa.lr = ob.lr = lrAt(t);
      perTensorStep(oa);
      ob.step();
    }
    expectSameParams(a, b, oa, ob);
    expect(ob.stepCount).toBe(5);
  });

  it('prepareStep(); applyStep() pairs equal step(), and applyStep() runs only the multi-tensor updates', () => {
    const { a, b, oa, ob } = pair(make);
    const groups = ob.groups.filter((g) => g.params.length).length;
    for (let t = 0; t < 4; t++) {
      setGrads(a, t);
      setGrads(b, t);
      oa.lr = ob.lr = lrAt(t);
      oa.step();
      ob.prepareStep();
      const steps = ob.stateDict().steps;
      const calls = nativeCalls(() => ob.applyStep());
      expect(calls).toHaveLength(groups);
      for (const c of calls) expect(c).toMatch(/^(sgd|adam|adagrad)UpdateMulti$/);
      expect(ob.stateDict().steps).toEqual(steps); // no host state changes
    }
    expectSameParams(a, b, oa, ob);
  });

  it('an applyStep() replayed after each prepareStep() reads the coefficients written last', () => {
    const { a, b, oa, ob } = pair(make);
    // the same parameter lists every step (as a captured graph holds them), only lr and step change
    for (let t = 0; t < 3; t++) {
      setGrads(a, 0);
      setGrads(b, 0);
      oa.lr = ob.lr = lrAt(2 * t);
      oa.step();
      ob.prepareStep();
      ob.applyStep();
    }
    expectSameParams(a, b, oa, ob);
  });

  it('uneven step counts (from a state dict) fall back to the per-tensor path and are not graphable', () => {
    const { a, b, oa, ob } = pair(make);
    for (const [ps, o] of [[a, oa], [b, ob]] as const) {
      setGrads(ps, 0);
      o.step();
      setGrads(ps, 1);
      o.step();
    }
    const sd = oa.stateDict();
    sd.steps[a[2].name] = 1; // parameter 2 one step behind the others of its group
    oa.loadStateDict(sd);
    ob.loadStateDict(sd);
    expect(ob.graphable).toBe(false);
    expect(() => ob.prepareStep()).toThrow(/prepareStep: the parameters of group 0 have different step counts \(2, 1\).*step\(\) updates them one by one/);
    expect(() => ob.applyStep()).toThrow(/applyStep: the parameters of group 0 have different step counts/);
    setGrads(a, 2);
    setGrads(b, 2);
    perTensorStep(oa);
    const calls = nativeCalls(() => ob.step());
    expect(calls.filter((c) => /Update$/.test(c))).toHaveLength(ob.groups[0].params.length); // group 0 per tensor
    expectSameParams(a, b, oa, ob);
    expect(ob.stateDict().steps[a[2].name]).toBe(2);
    expect(ob.graphable).toBe(false);
  });

  it('state dicts keep PyTorch\'s keys and resume to the same trajectory', () => {
    const { a, b, oa, ob } = pair(make);
    setGrads(a, 0);
    oa.step();
    const sd = oa.stateDict();
    for (const k of sd.tensors.keys()) expect(k).toMatch(/^net\.\d+\.(weight|bias)\.(momentum_buffer|exp_avg|exp_avg_sq|max_exp_avg_sq|sum)$/);
    ob.loadStateDict(sd);
    b.forEach((p, i) => native.write(p.value, native.toArray(a[i].value)));
    expect(ob.graphable).toBe(true);
    for (let t = 1; t < 3; t++) {
      setGrads(a, t);
      setGrads(b, t);
      oa.step();
      ob.prepareStep();
      ob.applyStep();
    }
    expectSameParams(a, b, oa, ob);
  });
});

describe('coefficients tensors', () => {
  it('each group owns one, freed by dispose(); an applyStep() before any prepareStep() is refused', () => {
    const before = native.liveBytes('cpu');
    const ps = makeParams();
    const withParams = native.liveBytes('cpu');
    const o = new Adam(paramGroups(ps, { weightDecay: 0.1 }), { amsgrad: false });
    expect(() => o.applyStep()).toThrow(/^adamUpdateMulti: coeffs do not hold optimizer coefficients/);
    // 2 groups x (exp_avg + exp_avg_sq) + 2 coefficients tensors
    const stateBytes = 4 * 2 * SIZES.reduce((x, y) => x + y, 0);
    expect(native.liveBytes('cpu') - withParams).toBe(stateBytes + 2 * 4 * native.optimizerCoefficientsSize);
    o.dispose();
    expect(native.liveBytes('cpu')).toBe(withParams);
    live.splice(0).forEach((t) => t.dispose());
    expect(native.liveBytes('cpu')).toBe(before);
  });
});

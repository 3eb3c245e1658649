// Optimizers over parameter groups against torch.optim's documented update rules (float64, here),
// lr changes between steps, and state dicts that resume to the same trajectory.
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import type { Param } from '../../lib/nn/module.js';
import { Adam, AdamW, Adagrad, SGD, createOptimizer, paramGroups, type Optimizer, type BaseOptions } from '../../lib/optim/index.js';
import { expectClose, rand } from '../helpers/check.js';

const live: Array<{ dispose(): void }> = [];
afterEach(() => live.splice(0).forEach((t) => t.dispose()));

function makeParam(name: string, n: number, seed: number, weightDecay: boolean): Param {
  const value = native.fromArray('cpu', [n], Float32Array.from(rand(n, seed)));
  const grad = native.empty('cpu', [n], 'float32');
  live.push(value, grad);
  return { name, value, grad, weightDecay };
}

const f64 = (p: Param) => Float64Array.from(native.toArray(p.value) as Float32Array);
const grads = (step: number, n: number, seed: number) => Float32Array.from(rand(n, 1000 * seed + step));

/** Runs `steps` updates with fresh gradients each step; `lrAt` changes the rate before each step. */
function run(opt: Optimizer<BaseOptions>, ps: Param[], from: number, to: number, lrAt?: (t: number) => number): void {
  for (let t = from; t < to; t++) {
    ps.forEach((p, i) => native.write(p.grad, grads(t, p.value.size, i + 1)));
    if (lrAt) opt.lr = lrAt(t);
    opt.step();
  }
}

type Rule = (theta: Float64Array, g: Float32Array, st: Record<string, Float64Array>, t: number, lr: number, wd: number) => void;

function expectRule(makeOpt: (ps: Param[]) => Optimizer<BaseOptions>, rule: Rule, wd: number, lrAt: (t: number) => number): void {
  const w = makeParam('net.0.weight', 37, 1, true);
  const b = makeParam('net.0.bias', 5, 2, false);
  const theta = [f64(w), f64(b)];
  const st = [{}, {}] as Array<Record<string, Float64Array>>;
  for (const [i, s] of st.entries()) for (const k of ['m', 'v', 'vmax', 'buf', 'sum']) s[k] = new Float64Array(theta[i].length);
  const opt = makeOpt([w, b]);
  live.push(opt);
  run(opt, [w, b], 0, 4, lrAt);
  for (let t = 0; t < 4; t++) theta.forEach((th, i) => rule(th, grads(t, th.length, i + 1), st[i], t + 1, lrAt(t), i === 0 ? wd : 0));
  expectClose(native.toArray(w.value) as Float32Array, theta[0], 1e-5, 'weight');
  expectClose(native.toArray(b.value) as Float32Array, theta[1], 1e-5, 'bias (no-decay group)');
  expect(opt.stepCount).toBe(4);
}

// torch.optim.Adam / AdamW (amsgrad off), step t 1-based
const adam = (decoupled: boolean, b1 = 0.9, b2 = 0.999, eps = 1e-8): Rule => (th, g, s, t, lr, wd) => {
  for (let i = 0; i < th.length; i++) {
    let gi = g[i];
    if (decoupled) th[i] *= 1 - lr * wd; else gi += wd * th[i];
    s.m[i] = b1 * s.m[i] + (1 - b1) * gi;
    s.v[i] = b2 * s.v[i] + (1 - b2) * gi * gi;
    th[i] -= (lr * (s.m[i] / (1 - b1 ** t))) / (Math.sqrt(s.v[i] / (1 - b2 ** t)) + eps);
  }
};

describe('optimizers against torch.optim formulas', () => {
  const lrAt = (t: number) => 0.01 * (1 - 0.1 * t);

  it('Adam with L2 weight decay on the decay group only', () => {
    expectRule((ps) => new Adam(paramGroups(ps, { weightDecay: 0.1 }), { lr: 0.01 }), adam(false), 0.1, lrAt);
  });

  it('AdamW (decoupled decay)', () => {
    expectRule((ps) => new AdamW(paramGroups(ps, { weightDecay: 0.05 }), { lr: 0.01, beta1: 0.8 }), adam(true, 0.8), 0.05, lrAt);
  });

  it('SGD with momentum, dampening and weight decay; and Nesterov', () => {
    const sgd = (mom: number, damp: number, nesterov: boolean): Rule => (th, g, s, t, lr, wd) => {
      for (let i = 0; i < th.length; i++) {
        let gi = g[i] + wd * th[i];
        s.buf[i] = t === 1 ? gi : mom * s.buf[i] + (1 - damp) * gi;
        gi = nesterov ? gi + mom * s.buf[i] : s.buf[i];
        th[i] -= lr * gi;
      }
    };
    expectRule((ps) => new SGD(paramGroups(ps, { weightDecay: 0.01 }), { lr: 0.1, momentum: 0.9, dampening: 0.2 }), sgd(0.9, 0.2, false), 0.01, (t) => 0.1 / (t + 1));
    expectRule((ps) => new SGD(paramGroups(ps, { weightDecay: 0.01 }), { lr: 0.1, momentum: 0.9, nesterov: true }), sgd(0.9, 0, true), 0.01, (t) => 0.1 / (t + 1));
  });

  it('Adagrad with lr decay (the report\'s optimizer)', () => {
    const rule: Rule = (th, g, s, t, lr, wd) => {
      const clr = lr / (1 + (t - 1) * 0.01);
      for (let i = 0; i < th.length; i++) {
        const gi = g[i] + wd * th[i];
        s.sum[i] += gi * gi;
        th[i] -= (clr * gi) / (Math.sqrt(s.sum[i]) + 1e-10);
      }
    };
    expectRule((ps) => new Adagrad(paramGroups(ps, { weightDecay: 0.001 }), { lr: 0.05, lrDecay: 0.01 }), rule, 0.001, () => 0.05);
  });
});

describe('optimizer state', () => {
  for (const kind of ['adam', 'adamw', 'sgd', 'adagrad'] as const) {
    it(`${kind}: stateDict after 2 steps, loaded into a fresh optimizer, continues identically`, () => {
      const a = [makeParam('w', 20, 3, true), makeParam('b', 4, 4, false)];
      const b = [makeParam('w', 20, 3, true), makeParam('b', 4, 4, false)];
      const spec = { kind, lr: 0.02, weightDecay: 0.01, momentum: 0.9 };
      const oa = createOptimizer(a, spec);
      const ob = createOptimizer(b, spec);
      live.push(oa, ob);
      run(oa, a, 0, 2);
      run(ob, b, 0, 1);
      // b is at a different point: loading a's state (and weights) must make it continue like a
      const sd = oa.stateDict();
      expect(sd.kind).toBe(kind);
      expect(sd.groups.map((g) => g.params)).toEqual([['w'], ['b']]);
      expect(sd.groups[1].options.weightDecay).toBe(0);
      ob.loadStateDict(sd);
      b.forEach((p, i) => native.write(p.value, native.toArray(a[i].value)));
      run(oa, a, 2, 4);
      run(ob, b, 2, 4);
      a.forEach((p, i) => expect(Array.from(native.toArray(b[i].value))).toEqual(Array.from(native.toArray(p.value))));
      expect(ob.stepCount).toBe(4);
    });
  }

  it('refuses a state dict of another optimizer or other parameters, listing every problem', () => {
    const ps = [makeParam('w', 6, 5, true)];
    const adamOpt = new Adam(ps);
    const sgd = new SGD([makeParam('v', 6, 6, true)], { momentum: 0.9 });
    live.push(adamOpt, sgd);
    expect(() => adamOpt.loadStateDict(sgd.stateDict(), 'ck.safetensors')).toThrow(
      /ck\.safetensors: cannot load the optimizer state:\n {2}optimizer kind is 'sgd', this one is 'adam'\n {2}group 0 holds different parameters\n {2}no step count for w\n {2}missing w.exp_avg\n {2}missing w.exp_avg_sq/,
    );
  });

  it('lr setter keeps group ratios; bad options are refused', () => {
    const ps = [makeParam('w', 3, 7, true), makeParam('b', 3, 8, false)];
    const o = new SGD([{ params: [ps[0]], lr: 0.1 }, { params: [ps[1]], lr: 0.05 }]);
    live.push(o);
    o.lr = 0.02;
    expect(o.groups.map((g) => g.options.lr)).toEqual([0.02, 0.01]);
    expect(() => (o.lr = NaN)).toThrow(/lr/);
    expect(() => new Adam(ps, { beta1: 1 })).toThrow(/beta1/);
    expect(() => new SGD(ps, { nesterov: true })).toThrow(/Nesterov/);
    expect(() => new SGD([{ params: ps }, { params: [ps[0]] }])).toThrow(/more than one group/);
  });
});

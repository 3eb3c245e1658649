// The multi-tensor optimizer updates on the GPU over VGG16's full parameter list (14.7M values in 54
// tensors, a 2.4M-element filter among 1-element-per-channel vectors): bit for bit the GPU's per-tensor
// updates, and the CPU's (both backends share the per-element math of core/optim_math.h, built without
// FMA contraction); and the pointer-table cache past its 32 entries.
import { afterAll, beforeAll, it } from 'vitest';
import { contents, expectBitEqual, gradSeries, makeSet, runSteps, vgg16Specs, type Case, type ParamSet } from '../helpers/optim-multi.js';
import { describeGpu, gpu } from './parity.js';

const STEPS = 5;
const cases: Case[] = [
  { kind: 'sgd', o: { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 5e-4, maximize: false } },
  { kind: 'sgd', o: { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: true } },
  { kind: 'adam', o: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true, amsgrad: true, maximize: false } },
  { kind: 'adam', o: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 5e-4, decoupled: false, amsgrad: false, maximize: false } },
  { kind: 'adagrad', o: { lr: 0.01, lrDecay: 0.01, weightDecay: 1e-3, eps: 1e-10, maximize: false } },
];

describeGpu('multi-tensor optimizer updates on the GPU', () => {
  const specs = vgg16Specs(1);
  let grads: Float32Array[][] = [];
  beforeAll(() => {
    grads = gradSeries(specs, STEPS, 41);
  });
  afterAll(() => {
    grads = [];
  });

  it.each(cases.map((c) => [`${c.kind} ${JSON.stringify(c.o)}`, c] as const))('%s: VGG16, 5 steps, against per-tensor on the GPU and the CPU', (_, c) => {
    const sets: ParamSet[] = [];
    try {
      const run = (device: 'cpu' | typeof gpu, multi: boolean) => {
        const s = makeSet(device, specs, c, 7);
        sets.push(s);
        runSteps(s, c, grads, multi);
        return contents(s);
      };
      const multi = run(gpu, true);
      const perTensor = run(gpu, false);
      const cpu = run('cpu', false);
      for (const [k, v] of perTensor) expectBitEqual(multi.get(k)!, v, `${gpu} multi vs ${gpu} per-tensor: ${k}`);
      for (const [k, v] of cpu) expectBitEqual(multi.get(k)!, v, `${gpu} multi vs cpu per-tensor: ${k}`);
    } finally {
      sets.forEach((s) => s.dispose());
    }
  });

  it('more distinct lists than the pointer-table cache holds (32), then the first again', () => {
    const c = cases[2];
    const listSpecs = (i: number) => [{ shape: [1000 + i] }, { shape: [3] }];
    const g = (i: number) => gradSeries(listSpecs(i), 2, 100 + i);
    const sets = Array.from({ length: 40 }, (_, i) => makeSet(gpu, listSpecs(i), c, i));
    try {
      sets.forEach((s, i) => runSteps(s, c, g(i).slice(0, 1), true));
      // list 0's table was evicted by the 32 after it: its second step builds the table again
      for (const i of [0, 39]) {
        runSteps(sets[i], c, g(i).slice(1), true, 2);
        const ref = makeSet(gpu, listSpecs(i), c, i);
        sets.push(ref);
        runSteps(ref, c, g(i), false);
        const want = contents(ref);
        const got = contents(sets[i]);
        for (const [k, v] of want) expectBitEqual(got.get(k)!, v, `list ${i}: ${k}`);
      }
    } finally {
      sets.forEach((s) => s.dispose());
    }
  });
});

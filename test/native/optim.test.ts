import { describe, it } from 'vitest';
import { native, type Layout, type NativeTensor } from '../../lib/backend.js';
import { expectClose, f32, rand, testDevices } from '../helpers/check.js';
import { adagradStepRef, adamStepRef, sgdStepRef, type AdagradOpts, type AdamOpts, type SgdOpts } from '../ref/optim.js';

const STEPS = 6;
const params: { shape: number[]; layout: Layout }[] = [
  { shape: [37], layout: 'plain' },
  { shape: [4, 3, 3, 3], layout: 'plain' },
  { shape: [2, 16, 3, 3], layout: 'nChw16c' },
];

const sgdCases: SgdOpts[] = [
  { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false },
  { lr: 0.05, momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0.01, maximize: false },
  { lr: 0.05, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 1e-3, maximize: false },
  { lr: 0.2, momentum: 0.5, dampening: 0, nesterov: false, weightDecay: 0.1, maximize: true },
];
const adamCases: AdamOpts[] = [
  { lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, amsgrad: false, maximize: false },
  { lr: 0.05, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.05, decoupled: false, amsgrad: true, maximize: false },
  { lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: true, amsgrad: false, maximize: false },
  { lr: 0.1, beta1: 0.5, beta2: 0.9, eps: 1e-3, weightDecay: 0.2, decoupled: true, amsgrad: true, maximize: true },
];
const adagradCases: AdagradOpts[] = [
  { lr: 0.1, lrDecay: 0, weightDecay: 0, eps: 1e-10, maximize: false },
  { lr: 0.1, lrDecay: 0.05, weightDecay: 0.01, eps: 1e-6, maximize: false },
  { lr: 0.5, lrDecay: 0.2, weightDecay: 0.1, eps: 1e-3, maximize: true },
];

/** Compares the parameter's change (not its value, which hides small errors) and the state. */
function check(got: NativeTensor, theta0: Float32Array, theta: Float64Array, what: string) {
  const g = native.toArray(got) as Float32Array;
  expectClose(g.map((v, i) => v - theta0[i]), theta.map((v, i) => v - theta0[i]), 1e-4, `${what} (change of param)`);
}

describe.each(testDevices())('optimizer updates on %s', (device) => {
  for (const { shape, layout } of params.filter((c) => device === 'cpu' || c.layout === 'plain')) {
    const n = shape.reduce((a, b) => a * b);
    const make = (v: Float32Array) => native.fromArray(device, shape, v, 'float32', layout);
    const grads = Array.from({ length: STEPS }, (_, t) => f32(rand(n, 100 + t + n)));
    const theta0 = f32(rand(n, 99 + n));

    sgdCases.forEach((o, k) => {
      it(`SGD case ${k} ${JSON.stringify(o)} ${JSON.stringify(shape)} ${layout}`, () => {
        const theta = Float64Array.from(theta0), buf = new Float64Array(n);
        const param = make(theta0);
        const grad = make(grads[0]);
        const mb = o.momentum ? native.empty(device, shape, 'float32', layout) : null;
        if (mb) native.fill(mb, NaN); // firstStep must not read the buffer
        for (let t = 1; t <= STEPS; t++) {
          native.write(grad, grads[t - 1]);
          native.sgdUpdate(param, grad, mb, { ...o, firstStep: t === 1 });
          sgdStepRef(theta, grads[t - 1], buf, t, o);
        }
        check(param, theta0, theta, 'sgd');
        if (mb) expectClose(native.toArray(mb) as Float32Array, buf, 1e-4, 'momentum buffer');
        for (const x of [param, grad, mb]) x?.dispose();
      });
    });

    adamCases.forEach((o, k) => {
      it(`Adam case ${k} ${JSON.stringify(o)} ${JSON.stringify(shape)} ${layout}`, () => {
        const theta = Float64Array.from(theta0), m = new Float64Array(n), v = new Float64Array(n), vmax = new Float64Array(n);
        const param = make(theta0);
        const grad = make(grads[0]);
        const [mt, vt] = [native.empty(device, shape, 'float32', layout), native.empty(device, shape, 'float32', layout)];
        native.fill(mt, 0);
        native.fill(vt, 0);
        const vm = o.amsgrad ? native.empty(device, shape, 'float32', layout) : null;
        if (vm) native.fill(vm, 0);
        for (let t = 1; t <= STEPS; t++) {
          native.write(grad, grads[t - 1]);
          native.adamUpdate(param, grad, mt, vt, vm, { ...o, step: t });
          adamStepRef(theta, grads[t - 1], m, v, vmax, t, o);
        }
        check(param, theta0, theta, 'adam');
        expectClose(native.toArray(mt) as Float32Array, m, 1e-4, 'exp_avg');
        expectClose(native.toArray(vt) as Float32Array, v, 1e-4, 'exp_avg_sq');
        if (vm) expectClose(native.toArray(vm) as Float32Array, vmax, 1e-4, 'max_exp_avg_sq');
        for (const x of [param, grad, mt, vt, vm]) x?.dispose();
      });
    });

    adagradCases.forEach((o, k) => {
      it(`Adagrad case ${k} ${JSON.stringify(o)} ${JSON.stringify(shape)} ${layout}`, () => {
        const init = 0.1; // initial_accumulator_value: the caller fills the state
        const theta = Float64Array.from(theta0), sum = new Float64Array(n).fill(init);
        const param = make(theta0);
        const grad = make(grads[0]);
        const st = native.empty(device, shape, 'float32', layout);
        native.fill(st, init);
        for (let t = 1; t <= STEPS; t++) {
          native.write(grad, grads[t - 1]);
          native.adagradUpdate(param, grad, st, { ...o, step: t });
          adagradStepRef(theta, grads[t - 1], sum, t, o);
        }
        check(param, theta0, theta, 'adagrad');
        expectClose(native.toArray(st) as Float32Array, sum, 1e-4, 'state_sum');
        for (const x of [param, grad, st]) x.dispose();
      });
    });
  }
});

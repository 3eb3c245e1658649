// Multi-tensor optimizer updates (one call per group) against the per-tensor ones, bit for bit, over
// changing learning rates and every option combination, on every available backend; and their argument
// checks. Where the coefficients do not suit the update (another optimizer's, momentum without buffers)
// the CPU throws at once and CUDA reports it at the next read from the device: both update nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { native, type Device, type NativeTensor } from '../../lib/backend.js';
import { cudaUnavailableReason, testDevices } from '../helpers/check.js';
import { allCases, contents, expectBitEqual, gradSeries, makeSet, runSteps, vgg16Specs, type Case, type Spec } from '../helpers/optim-multi.js';

const STEPS = 5;
const reason = cudaUnavailableReason();
if (reason) console.log(`optim-multi on cuda skipped: ${reason}`);

const live: Array<{ dispose(): void }> = [];
afterEach(() => live.splice(0).forEach((t) => t.dispose()));

/** Both paths from the same start; every parameter and state compared bit for bit. */
function expectSame(device: Device, specs: Spec[], c: Case, seed: number): void {
  const a = makeSet(device, specs, c, seed);
  const b = makeSet(device, specs, c, seed);
  live.push(a, b);
  const grads = gradSeries(specs, STEPS, seed);
  runSteps(a, c, grads, false);
  runSteps(b, c, grads, true);
  const want = contents(a);
  const got = contents(b);
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [k, v] of want) expectBitEqual(got.get(k)!, v, `${c.kind} ${JSON.stringify(c.o)}: ${k}`);
  // the update did move the parameters (a no-op would also be "equal")
  const first = makeSet(device, specs, c, seed);
  live.push(first);
  expect(Array.from(got.get('params[0]')!)).not.toEqual(Array.from(native.toArray(first.params[0]) as Float32Array));
}

const label = (c: Case) => `${c.kind} ${JSON.stringify(c.o)}`;

describe.each(testDevices())('multi-tensor optimizer updates on %s', (device) => {
  // sizes 1, 7 and 4099 (a partial chunk, several SIMD tails), and on the CPU a blocked layout
  const small: Spec[] = [{ shape: [1] }, { shape: [7] }, { shape: [4099] }];
  if (device === 'cpu') small.push({ shape: [2, 16, 3, 3], layout: 'nChw16c' });
  // a VGG16-like list: 54 tensors of 8 to 36,864 elements (several blocks on CUDA, OpenMP on the CPU)
  const vgg = vgg16Specs(8);

  it.each(allCases().map((c) => [label(c), c] as const))('%s: sizes 1, 7, 4099 equal the per-tensor updates over 5 steps', (_, c) => {
    expectSame(device, small, c, 11);
  });

  it.each(allCases().map((c) => [label(c), c] as const))('%s: a VGG16-like parameter list equals the per-tensor updates', (_, c) => {
    expectSame(device, vgg, c, 23);
  });

  it('one tensor alone, and momentum buffers passed with momentum 0 (ignored, as the per-tensor update does)', () => {
    expectSame(device, [{ shape: [300] }], allCases()[0], 5);
    const c: Case = { kind: 'sgd', o: { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0.01, maximize: false } };
    const a = makeSet(device, small, c, 3);
    const bufs = small.map((s) => native.empty(device, s.shape, 'float32', s.layout ?? 'plain'));
    live.push(a, ...bufs);
    native.sgdCoefficients({ ...c.o, firstStep: true }, a.coeffs);
    expect(() => native.sgdUpdateMulti(a.params, a.grads, bufs, a.coeffs)).not.toThrow();
  });
});

describe.each(testDevices())('multi-tensor update arguments on %s', (device) => {
  const t = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => {
    const x = native.empty(device, shape, dtype);
    native.fill(x, 0.5);
    live.push(x);
    return x;
  };
  const coeffs = () => t([native.optimizerCoefficientsSize]);
  const sgd = { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false, firstStep: true };
  const adam = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, amsgrad: false, maximize: false, step: 1 };
  const adagrad = { lr: 0.1, lrDecay: 0, weightDecay: 0, eps: 1e-10, maximize: false, step: 1 };

  it('exports the size of a coefficients tensor', () => {
    expect(native.optimizerCoefficientsSize).toBe(16);
  });

  it('refuses lists that do not pair up, with the op, the list, the index and the shapes', () => {
    const [p0, p1, g0, g1, c] = [t([3]), t([7]), t([3]), t([7]), coeffs()];
    native.sgdCoefficients(sgd, c);
    const cases: Array<[() => void, ErrorConstructor, RegExp]> = [
      [() => native.sgdUpdateMulti([p0, p1], [g0], null, c), RangeError, /^sgdUpdateMulti: grads has 1 tensors but params has 2 \(the i-th entries/],
      [() => native.sgdUpdateMulti([p0, p1], [g0, t([8])], null, c), RangeError, /^sgdUpdateMulti: params\[1\] and grads\[1\] must have the same shape, got float32\[7\].* and float32\[8\]/],
      [() => native.sgdUpdateMulti([p0, t([7], 'int32')], [g0, g1], null, c), TypeError, /^sgdUpdateMulti: params\[1\] must be float32, got int32\[7\]/],
      [() => native.sgdUpdateMulti([p0, p1], [g0, t([7], 'int32')], null, c), TypeError, /^sgdUpdateMulti: grads\[1\] must be float32, got int32\[7\]/],
      [() => native.sgdUpdateMulti([], [], null, c), RangeError, /^sgdUpdateMulti: params \(argument 1\) must hold at least one Tensor, got an empty array/],
      [() => native.sgdUpdateMulti(p0 as never, [g0], null, c), TypeError, /^sgdUpdateMulti: params \(argument 1\) must be an array of Tensors, got Tensor/],
      [() => native.sgdUpdateMulti([p0, 3 as never], [g0, g1], null, c), TypeError, /^sgdUpdateMulti: params\[1\] must be a Tensor, got number/],
      [() => native.sgdUpdateMulti([p0, p0], [g0, g0], null, c), RangeError, /^sgdUpdateMulti: params\[0\] and params\[1\] must not share storage \(both are updated\)/],
      [() => native.sgdUpdateMulti([p0, t([3])], [g0, p0], null, c), RangeError, /^sgdUpdateMulti: grads\[1\] and params\[0\] must not share storage/],
      [() => native.sgdUpdateMulti([p0], [g0], null, t([15])), RangeError, /^sgdUpdateMulti: coeffs must have shape \[16\] \(optimizerCoefficientsSize\), got float32\[15\]/],
      [() => native.sgdUpdateMulti([p0], [g0], null, t([16], 'int32')), TypeError, /^sgdUpdateMulti: coeffs must be float32, got int32\[16\]/],
      [() => native.adamUpdateMulti([p0], [g0], [g1], [t([3])], null, c), RangeError, /^adamUpdateMulti: params\[0\] and expAvg\[0\] must have the same shape/],
      [() => { const m = t([3]); native.adamUpdateMulti([p0], [g0], [m], [m], null, c); }, RangeError, /^adamUpdateMulti: expAvg\[0\] and expAvgSq\[0\] must not share storage/],
      [() => native.adagradUpdateMulti([p0], [g0], [p0], c), RangeError, /^adagradUpdateMulti: param(s\[0\])? and stateSum\[0\] must not share storage/],
      [() => native.adagradUpdateMulti([p0], [g0], [t([3])], p0), RangeError, /^adagradUpdateMulti: coeffs must have shape \[16\]/],
      [() => native.sgdCoefficients({ ...sgd, momentum: 0.9, nesterov: true, dampening: 0.1 }, c), RangeError, /^sgdCoefficients: nesterov needs momentum > 0 and dampening 0/],
      [() => native.adamCoefficients({ ...adam, step: 0 }, c), RangeError, /^adamCoefficients: option step must be in \[1, /],
      [() => native.adagradCoefficients({ ...adagrad, eps: 0 }, c), RangeError, /^adagradCoefficients: option eps must be > 0, got 0/],
      [() => native.adagradCoefficients(adagrad, t([4])), RangeError, /^adagradCoefficients: coeffs must have shape \[16\]/],
    ];
    for (const [f, type, re] of cases) {
      expect(f, re.source).toThrow(type);
      expect(f, re.source).toThrow(re);
    }
  });

  /** The update must be refused with `re` (at once on the CPU, at the next read on CUDA) and write nothing. */
  function expectRefused(p: NativeTensor, update: () => void, re: RegExp): void {
    const before = native.toArray(p) as Float32Array;
    if (device === 'cpu') expect(update).toThrow(re);
    else {
      update();
      expect(() => native.toArray(p)).toThrow(re);
      expect(() => native.toArray(p)).not.toThrow(); // reported once
    }
    expect(Array.from(native.toArray(p) as Float32Array)).toEqual(Array.from(before));
  }

  it("refuses another optimizer's coefficients, unwritten ones, and momentum or amsgrad without their state", () => {
    const [p, g, m, v, c] = [t([5]), t([5]), t([5]), t([5]), coeffs()];
    native.fill(p, 1.25);
    expectRefused(p, () => native.sgdUpdateMulti([p], [g], null, c), /^sgdUpdateMulti: coeffs do not hold optimizer coefficients \(write them with sgdCoefficients first\)/);
    native.adamCoefficients(adam, c);
    expectRefused(p, () => native.sgdUpdateMulti([p], [g], null, c), /^sgdUpdateMulti: coeffs hold adam coefficients \(written by adamCoefficients\), not sgd ones/);
    expectRefused(p, () => native.adagradUpdateMulti([p], [g], [m], c), /^adagradUpdateMulti: coeffs hold adam coefficients \(written by adamCoefficients\), not adagrad ones/);
    native.sgdCoefficients({ ...sgd, momentum: 0.9 }, c);
    expectRefused(p, () => native.sgdUpdateMulti([p], [g], null, c), /^sgdUpdateMulti: the coefficients have momentum > 0 but momentumBufs is null/);
    expectRefused(p, () => native.adamUpdateMulti([p], [g], [m], [v], null, c), /^adamUpdateMulti: coeffs hold sgd coefficients/);
    native.adamCoefficients({ ...adam, amsgrad: true }, c);
    expectRefused(p, () => native.adamUpdateMulti([p], [g], [m], [v], null, c), /^adamUpdateMulti: the coefficients have amsgrad on but maxExpAvgSq is null/);
    // and a correct pairing afterwards runs
    native.adamCoefficients(adam, c);
    native.adamUpdateMulti([p], [g], [m], [v], null, c);
    expect((native.toArray(p) as Float32Array)[0]).not.toBe(1.25);
  });

  it.skipIf(device !== 'cpu' || reason !== null)('refuses tensors on two devices', () => {
    const gp = native.empty('cuda', [3], 'float32');
    live.push(gp);
    const c = coeffs();
    native.sgdCoefficients(sgd, c);
    expect(() => native.sgdUpdateMulti([t([3]), gp], [t([3]), t([3])], null, c)).toThrow(/^sgdUpdateMulti: params\[1\] is on cuda but params\[0\] is on cpu/);
    const gg = native.empty('cuda', [3], 'float32');
    live.push(gg);
    expect(() => native.sgdUpdateMulti([gp], [gg], null, c)).toThrow(/^sgdUpdateMulti: coeffs is on cpu but the parameters are on cuda/);
  });
});

// Runs the optimizer updates two ways over the same list of parameters: one native call per tensor
// (sgdUpdate, adamUpdate, adagradUpdate) and one multi-tensor call per step (*Coefficients then
// *UpdateMulti), from identical starting values, so tests can demand bit-identical results.
import { native, type Device, type Layout, type NativeTensor } from '../../lib/backend.js';
import { f32, rand } from './check.js';

export type Kind = 'sgd' | 'adam' | 'adagrad';
export interface SgdCase { lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number; maximize: boolean }
export interface AdamCase { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean; amsgrad: boolean; maximize: boolean }
export interface AdagradCase { lr: number; lrDecay: number; weightDecay: number; eps: number; maximize: boolean }
export type Case = { kind: 'sgd'; o: SgdCase } | { kind: 'adam'; o: AdamCase } | { kind: 'adagrad'; o: AdagradCase };

export interface Spec { shape: number[]; layout?: Layout }

/** The state tensors each parameter carries under a case (PyTorch's keys), and their starting value. */
function stateInit(c: Case): Record<string, number> {
  if (c.kind === 'sgd') return c.o.momentum > 0 ? { momentum_buffer: NaN } : {}; // the first step must not read it
  if (c.kind === 'adam') return c.o.amsgrad ? { exp_avg: 0, exp_avg_sq: 0, max_exp_avg_sq: 0 } : { exp_avg: 0, exp_avg_sq: 0 };
  return { sum: 0.1 };
}

export interface ParamSet {
  device: Device;
  params: NativeTensor[];
  grads: NativeTensor[];
  states: Array<Record<string, NativeTensor>>;
  coeffs: NativeTensor;
  dispose(): void;
}

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Parameters of `specs` on `device` with seeded values, zeroed gradients and the case's state. */
export function makeSet(device: Device, specs: Spec[], c: Case, seed: number): ParamSet {
  const make = (s: Spec, data: Float32Array) => native.fromArray(device, s.shape, data, 'float32', s.layout ?? 'plain');
  const params = specs.map((s, i) => make(s, f32(rand(numel(s.shape), seed + 31 * i))));
  const grads = specs.map((s) => make(s, new Float32Array(numel(s.shape))));
  const states = specs.map((s) => {
    const st: Record<string, NativeTensor> = {};
    for (const [k, v] of Object.entries(stateInit(c))) st[k] = make(s, new Float32Array(numel(s.shape)).fill(v));
    return st;
  });
  const coeffs = native.empty(device, [native.optimizerCoefficientsSize], 'float32');
  native.fill(coeffs, 0);
  const all = () => [...params, ...grads, ...states.flatMap((s) => Object.values(s)), coeffs];
  return { device, params, grads, states, coeffs, dispose: () => all().forEach((t) => t.dispose()) };
}

/** The gradients of steps 1..steps (one array per step, one Float32Array per parameter), seeded. */
export function gradSeries(specs: Spec[], steps: number, seed: number): Float32Array[][] {
  return Array.from({ length: steps }, (_, t) => specs.map((s, i) => f32(rand(numel(s.shape), seed + 1000 * (t + 1) + 7 * i))));
}

/** The learning rate of step t: it changes every step (a schedule), so stale coefficients would show. */
export const lrAt = (lr: number, t: number): number => lr * (1 - 0.13 * (t - 1));

function list(set: ParamSet, key: string): NativeTensor[] {
  return set.states.map((s) => s[key]);
}

/** The per-step options of case c at step t, in the shape the native calls take. */
export function stepParams(c: Case, t: number) {
  const lr = lrAt(c.o.lr, t);
  if (c.kind === 'sgd') return { ...c.o, lr, firstStep: t === 1 };
  return { ...c.o, lr, step: t };
}

/** One step with one native call per parameter. */
export function stepPerTensor(set: ParamSet, c: Case, t: number): void {
  set.params.forEach((p, i) => {
    const g = set.grads[i];
    const s = set.states[i];
    if (c.kind === 'sgd') native.sgdUpdate(p, g, s.momentum_buffer ?? null, stepParams(c, t) as never);
    else if (c.kind === 'adam') native.adamUpdate(p, g, s.exp_avg, s.exp_avg_sq, s.max_exp_avg_sq ?? null, stepParams(c, t) as never);
    else native.adagradUpdate(p, g, s.sum, stepParams(c, t) as never);
  });
}

/** The coefficients of step t, written into the set's coefficients tensor. */
export function writeCoefficients(set: ParamSet, c: Case, t: number): void {
  if (c.kind === 'sgd') native.sgdCoefficients(stepParams(c, t) as never, set.coeffs);
  else if (c.kind === 'adam') native.adamCoefficients(stepParams(c, t) as never, set.coeffs);
  else native.adagradCoefficients(stepParams(c, t) as never, set.coeffs);
}

/** The multi-tensor update over the whole set from the coefficients written last. */
export function updateMulti(set: ParamSet, c: Case): void {
  if (c.kind === 'sgd') native.sgdUpdateMulti(set.params, set.grads, c.o.momentum > 0 ? list(set, 'momentum_buffer') : null, set.coeffs);
  else if (c.kind === 'adam')
    native.adamUpdateMulti(set.params, set.grads, list(set, 'exp_avg'), list(set, 'exp_avg_sq'), c.o.amsgrad ? list(set, 'max_exp_avg_sq') : null, set.coeffs);
  else native.adagradUpdateMulti(set.params, set.grads, list(set, 'sum'), set.coeffs);
}

/** Runs one step per entry of `grads` (gradSeries) on the set, per tensor or multi-tensor; the first is
 *  step `first` (1-based). */
export function runSteps(set: ParamSet, c: Case, grads: Float32Array[][], multi: boolean, first = 1): void {
  grads.forEach((gs, k) => {
    const t = first + k;
    gs.forEach((g, i) => native.write(set.grads[i], g));
    if (multi) {
      writeCoefficients(set, c, t);
      updateMulti(set, c);
    } else stepPerTensor(set, c, t);
  });
}

/** Every parameter and state tensor of the set, by name ('params[3]', 'exp_avg[3]'). */
export function contents(set: ParamSet): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  set.params.forEach((p, i) => {
    out.set(`params[${i}]`, native.toArray(p) as Float32Array);
    for (const [k, s] of Object.entries(set.states[i])) out.set(`${k}[${i}]`, native.toArray(s) as Float32Array);
  });
  return out;
}

/** Throws naming the first element whose bits differ (NaN payloads included). */
export function expectBitEqual(actual: Float32Array, expected: Float32Array, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++)
    if (a[i] !== e[i]) throw new Error(`${what}: element ${i} is ${actual[i]} (0x${a[i].toString(16)}), expected ${expected[i]} (0x${e[i].toString(16)})`);
}

/** VGG16's parameters for CIFAR-10 (13 conv layers with BatchNorm, a linear classifier), channels / `div`. */
export function vgg16Specs(div = 1): Spec[] {
  const widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512].map((c) => c / div);
  const specs: Spec[] = [];
  let cin = 3;
  for (const c of widths) {
    specs.push({ shape: [c, cin, 3, 3] }, { shape: [c] }, { shape: [c] }, { shape: [c] }); // conv weight, conv bias, BN gamma, BN beta
    cin = c;
  }
  specs.push({ shape: [10, cin] }, { shape: [10] });
  return specs;
}

/** Every option combination the multi-tensor updates must match the per-tensor ones on. */
export function allCases(): Case[] {
  const cases: Case[] = [];
  for (const momentum of [0, 0.9])
    for (const [dampening, nesterov] of [[0, false], [0.3, false], [0, true]] as const)
      for (const [weightDecay, maximize] of [[0, false], [0.01, true]] as const) {
        if (nesterov && momentum === 0) continue;
        cases.push({ kind: 'sgd', o: { lr: 0.1, momentum, dampening, nesterov, weightDecay, maximize } });
      }
  for (const amsgrad of [false, true])
    for (const decoupled of [false, true])
      for (const [weightDecay, maximize] of [[0, false], [0.05, false], [0.05, true]] as const)
        cases.push({ kind: 'adam', o: { lr: 0.05, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay, decoupled, amsgrad, maximize } });
  for (const lrDecay of [0, 0.05])
    for (const [weightDecay, maximize] of [[0, false], [0.01, false], [0.01, true]] as const)
      cases.push({ kind: 'adagrad', o: { lr: 0.1, lrDecay, weightDecay, eps: 1e-8, maximize } });
  return cases;
}

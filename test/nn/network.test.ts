// Whole networks against a float64 reference written here from the VGG definition (conv3x3 pad 1,
// [BatchNorm], ReLU, 2x2 max-pool, flatten, linear layers, softmax cross-entropy), built from the
// model's own state dict: logits, loss and every parameter gradient, on tiny-width VGG16 and VGG11-BN.
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { fromFloat32, fromInt32, scalar, type Tensor } from '../../lib/tensor.js';
import { vgg, type VggOptions } from '../../lib/models/vgg.js';
import { initialize } from '../../lib/nn/init.js';
import { stateDict } from '../../lib/nn/state.js';
import { SoftmaxCrossEntropyLoss } from '../../lib/nn/loss.js';
import { expectClose, rand, randInt } from '../helpers/check.js';
import { convBackwardDataRef, convBackwardFilterRef, convForwardRef, type ConvShape } from '../ref/conv.js';
import { maxPoolBackwardRef, maxPoolRef } from '../ref/pool.js';
import { linearBackwardRef, linearForwardRef } from '../ref/linear.js';
import { batchNormBackwardRef, batchNormRef } from '../ref/batchnorm.js';
import { crossEntropyRef } from '../ref/loss.js';

type RefLayer =
  | { kind: 'conv'; C: number; O: number } | { kind: 'bn'; C: number } | { kind: 'relu' } | { kind: 'pool' }
  | { kind: 'flatten' } | { kind: 'linear'; K: number; M: number };

// The VGG tables once more, independent of lib/models (widths before the divisor; 0 = max-pool).
const TABLE: Record<number, number[]> = {
  11: [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
  16: [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
};

function refLayers(depth: number, bn: boolean, div: number, hidden: number, classes: number): RefLayer[] {
  const L: RefLayer[] = [];
  let c = 3;
  for (const w of TABLE[depth]) {
    if (w === 0) { L.push({ kind: 'pool' }); continue; }
    L.push({ kind: 'conv', C: c, O: w / div });
    if (bn) L.push({ kind: 'bn', C: w / div });
    L.push({ kind: 'relu' });
    c = w / div;
  }
  L.push({ kind: 'flatten' }, { kind: 'linear', K: c, M: hidden }, { kind: 'relu' }, { kind: 'linear', K: hidden, M: hidden },
    { kind: 'relu' }, { kind: 'linear', K: hidden, M: classes });
  return L;
}

const POOL = { kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 };
const conv = (s: number[], O: number): ConvShape => ({ N: s[0], C: s[1], H: s[2], W: s[3], O, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 });

/** Forward + backward of the reference network; returns logits, loss and gradients by state-dict name. */
function reference(L: RefLayer[], P: Map<string, Float64Array>, x0: Float64Array, shape0: number[], labels: Int32Array) {
  const xs: Float64Array[] = [];
  const shapes: number[][] = [];
  const aux: unknown[] = [];
  let x = x0, s = shape0;
  L.forEach((l, i) => {
    xs.push(x); shapes.push(s);
    const w = P.get(`net.${i}.weight`)!, b = P.get(`net.${i}.bias`)!;
    switch (l.kind) {
      case 'conv': x = convForwardRef(conv(s, l.O), x, w, b); s = [s[0], l.O, s[2], s[3]]; break;
      case 'bn': {
        const r = batchNormRef(x, s, w, b, new Float64Array(l.C), new Float64Array(l.C).fill(1), true, 0.1, 1e-5);
        aux[i] = r; x = r.y; break;
      }
      case 'relu': x = x.map((v) => Math.max(0, v)); break;
      case 'pool': { const r = maxPoolRef(x, s, POOL); aux[i] = r.arg; x = r.y; s = [s[0], s[1], s[2] / 2, s[3] / 2]; break; }
      case 'flatten': s = [s[0], s[1] * s[2] * s[3]]; break;
      case 'linear': x = linearForwardRef(s[0], l.K, l.M, x, w, b); s = [s[0], l.M]; break;
    }
  });
  const logits = x;
  const { loss, d } = crossEntropyRef(logits, labels, s[0], s[1], 0);
  const grads = new Map<string, Float64Array>();
  let g = d;
  for (let i = L.length - 1; i >= 0; i--) {
    const l = L[i], xi = xs[i], si = shapes[i];
    const w = P.get(`net.${i}.weight`)!;
    switch (l.kind) {
      case 'conv': {
        const cs = conv(si, l.O);
        const f = convBackwardFilterRef(cs, xi, g);
        grads.set(`net.${i}.weight`, f.dw); grads.set(`net.${i}.bias`, f.db);
        g = convBackwardDataRef(cs, g, w); break;
      }
      case 'bn': {
        const r = aux[i] as { mean: Float64Array; invStd: Float64Array };
        const bb = batchNormBackwardRef(xi, si, g, w, r.mean, r.invStd);
        grads.set(`net.${i}.weight`, bb.dgamma); grads.set(`net.${i}.bias`, bb.dbeta);
        g = bb.dx; break;
      }
      case 'relu': { const y = i + 1 < L.length ? xs[i + 1] : logits; g = g.map((v, k) => (y[k] > 0 ? v : 0)); break; }
      case 'pool': g = maxPoolBackwardRef(g, aux[i] as Int32Array, xi.length); break;
      case 'flatten': break;
      case 'linear': {
        const r = linearBackwardRef(si[0], l.K, l.M, xi, w, g);
        grads.set(`net.${i}.weight`, r.dw); grads.set(`net.${i}.bias`, r.db);
        g = r.dx; break;
      }
    }
  }
  return { logits, loss, grads };
}

const toDispose: Array<{ dispose(): void }> = [];
afterAll(() => toDispose.forEach((t) => t.dispose()));

function check(opts: VggOptions, N: number, seed: number): void {
  const model = vgg({ ...opts, inputSize: [32, 32] });
  toDispose.push(model);
  initialize(model, { scheme: 'kaiming_uniform', bias: 'pytorch_default', seed });
  const P = new Map<string, Float64Array>();
  for (const [k, t] of stateDict(model)) if (t.dtype === 'F32') P.set(k, Float64Array.from(t.data as Float32Array));
  const xs = Float32Array.from(rand(N * 3 * 32 * 32, seed + 1));
  const labels = randInt(N, seed + 2, opts.numClasses ?? 10);
  const L = refLayers(opts.depth!, !!opts.batchNorm, opts.widthDivisor!, opts.hidden!, opts.numClasses ?? 10);
  const ref = reference(L, P, Float64Array.from(xs), [N, 3, 32, 32], labels);

  const x: Tensor = fromFloat32('cpu', [N, 3, 32, 32], xs);
  const y: Tensor = fromInt32('cpu', [N], labels);
  toDispose.push(x, y);
  const out = model.build('cpu', [N, 3, 32, 32]);
  expect(out).toEqual([N, opts.numClasses ?? 10]);
  const lossFn = new SoftmaxCrossEntropyLoss();
  toDispose.push(lossFn);
  lossFn.build('cpu', out);
  const logits = model.forward(x);
  expectClose(native.toArray(logits) as Float32Array, ref.logits, 1e-4, 'logits');
  const dlogits = lossFn.forward(logits, y)!;
  expect(scalar(lossFn.lossAcc!)).toBeCloseTo(ref.loss, 4);
  expect(model.backward(dlogits)).toBeNull();
  for (const p of model.parameters()) {
    const i = Number(p.name.split('.')[1]);
    if (p.name.endsWith('bias') && L[i].kind === 'conv' && L[i + 1]?.kind === 'bn') {
      // BatchNorm subtracts the batch mean, so a conv bias before it has gradient exactly 0: only
      // float32 rounding is left, small next to the weight's gradient.
      const g = native.toArray(p.grad) as Float32Array;
      const gw = ref.grads.get(`net.${i}.weight`)!;
      expect(Math.max(...g.map(Math.abs))).toBeLessThan(1e-4 * Math.max(...gw.map(Math.abs)));
      continue;
    }
    expectClose(native.toArray(p.grad) as Float32Array, ref.grads.get(p.name)!, 1e-4, `grad ${p.name}`);
  }
}

describe('VGG forward/backward against a float64 reference (cpu)', () => {
  it('VGG16 (widths / 8, report classifier), batch 2', () => {
    check({ depth: 16, widthDivisor: 8, hidden: 16, classifier: 'report' }, 2, 11);
  });
  it('VGG11 with BatchNorm (widths / 8), batch 3, 7 classes', () => {
    check({ depth: 11, widthDivisor: 8, hidden: 12, batchNorm: true, classifier: 'report', numClasses: 7 }, 3, 21);
  });
});

// bf16 mixed precision through the layer graph: a bf16 network follows the fp32 one within bf16's
// rounding, keeps fp32 master weights, gradients and logits, recasts its bf16 weights only after they
// change, learns, and switches back to exactly the fp32 behaviour.
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { fromFloat32, fromInt32, toFloat32, type Tensor } from '../../lib/tensor.js';
import { vgg, type Vgg } from '../../lib/models/vgg.js';
import { initialize } from '../../lib/nn/init.js';
import { SoftmaxCrossEntropyLoss } from '../../lib/nn/loss.js';
import { createOptimizer } from '../../lib/optim/index.js';
import { expectClose, rand, randInt, relError } from '../helpers/check.js';

const live: Array<{ dispose(): void }> = [];
afterAll(() => live.forEach((t) => t.dispose()));

// No dropout, so that two passes over the same batch with the same weights give the same logits.
const OPTS = { depth: 11 as const, widthDivisor: 8, batchNorm: true, classifier: 'report' as const, hidden: 32 };
const N = 8;

function model(seed = 3): Vgg {
  const m = vgg(OPTS);
  initialize(m, { scheme: 'kaiming_normal', mode: 'fan_out', seed });
  live.push(m);
  return m;
}

const x = fromFloat32('cpu', [N, 3, 32, 32], Float32Array.from(rand(N * 3072, 9)));
const labels = fromInt32('cpu', [N], randInt(N, 10, 10));
live.push(x, labels);

/** One forward and backward; returns the logits and every parameter gradient (fp32, copied out). */
function pass(m: Vgg): { logits: Float32Array; grads: Float32Array[]; loss: SoftmaxCrossEntropyLoss } {
  const loss = new SoftmaxCrossEntropyLoss();
  live.push(loss);
  m.build('cpu', x.shape);
  const logits = m.forward(x);
  loss.build('cpu', logits.shape);
  m.backward(loss.forward(logits, labels)!);
  return { logits: toFloat32(logits), grads: m.parameters().map((p) => toFloat32(p.grad)), loss };
}

describe('bf16 mixed precision (cpu)', () => {
  it('follows the fp32 network within bf16 rounding, with fp32 logits, gradients and master weights', () => {
    const a = model(), b = model().setPrecision('bf16');
    expect(b.precision).toBe('bf16');
    const fa = pass(a), fb = pass(b);
    expect(b.forward(x).dtype).toBe('float32');
    for (const p of b.parameters()) {
      expect(p.value.dtype).toBe('float32');
      expect(p.grad.dtype).toBe('float32');
    }
    // Eight network layers of bf16 rounding (2^-8 relative each) on the logits: a few 1e-2 at most.
    expectClose(fb.logits, fa.logits, 5e-2, 'logits');
    expect(relError(fb.logits, fa.logits)).toBeGreaterThan(0);  // it really ran in bf16
    // Gradients, L2-relative to fp32. bf16 errors grow backwards through the layers (ReLU masks flip
    // where a pre-activation is near 0, and every dx is rounded to bf16): PyTorch's CPU autocast on
    // this same network shape (VGG11/8 with BN, batch 8; torch 1.13, test/pytorch/bf16-autocast.py) is at 0.2-0.4 for
    // the early layers and 0.02 for the last Linear. A plumbing bug (stale or wrong weights, a lost
    // cast) gives errors of order 1, which these bounds catch. Convolution biases in front of
    // BatchNorm have a zero gradient in exact arithmetic (BN removes the mean): their fp32 value is
    // rounding noise, so they are left out.
    const l2 = (a: Float32Array, b: Float32Array) => {
      let num = 0, den = 0;
      for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
      return Math.sqrt(num / den);
    };
    const grads = a.parameters()
      .map((p, i) => ({ name: p.name, err: l2(fb.grads[i], fa.grads[i]), scale: Math.max(...fa.grads[i].map(Math.abs)) }))
      .filter((g) => g.scale > 1e-4);
    expect(grads.length).toBeGreaterThan(20);
    const worst = grads.reduce((w, g) => (g.err > w.err ? g : w));
    expect(worst.err, `worst gradient ${worst.name}`).toBeLessThan(0.6);
    expect(grads.at(-2)!.err, grads.at(-2)!.name).toBeLessThan(0.06);  // the last Linear's weight
  });

  it('keeps activations in bf16 nhwc between layers', () => {
    const m = model().setPrecision('bf16');
    m.build('cpu', x.shape);
    const outs = m.forwardAll(x);
    const maps = outs.filter((t) => t.shape.length === 4);
    expect(maps.length).toBeGreaterThan(0);
    for (const t of maps) {
      expect(t.dtype).toBe('bfloat16');
      expect(t.layout).toBe('nhwc');
    }
    expect(toFloat32(outs[0]).every(Number.isFinite)).toBe(true);
  });

  it('recasts the bf16 weights after an optimizer step and not otherwise', () => {
    const m = model().setPrecision('bf16');
    const opt = createOptimizer(m.parameters(), { kind: 'sgd', lr: 0.5 });
    live.push(opt);
    const first = pass(m).logits;
    expect(Array.from(pass(m).logits)).toEqual(Array.from(first));  // same weights: same bf16 copies, same logits
    opt.step();
    expect(relError(pass(m).logits, first)).toBeGreaterThan(1e-3);  // the step reached the bf16 copies
  });

  it('learns a small task (loss falls by half in 30 Adam steps)', () => {
    const m = model(7).setPrecision('bf16');
    const opt = createOptimizer(m.parameters(), { kind: 'adam', lr: 2e-3 });
    live.push(opt);
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const { loss } = pass(m);
      losses.push(toFloat32(loss.lossAcc!)[0]);
      opt.step();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(losses[0] / 2);
  });

  it('switches back to exactly the fp32 network', () => {
    const a = model(), b = model();
    b.setPrecision('bf16');
    pass(b);
    b.setPrecision('fp32');
    expect(b.precision).toBe('fp32');
    expect(Array.from(pass(b).logits)).toEqual(Array.from(pass(a).logits));
  });

  it('rejects an unknown precision', () => {
    expect(() => model().setPrecision('fp16' as never)).toThrow(/precision must be 'fp32' or 'bf16', got 'fp16'/);
  });

  it('allocates nothing on the device in the steady state', () => {
    const m = model().setPrecision('bf16');
    const opt = createOptimizer(m.parameters(), { kind: 'adam', lr: 1e-3 });
    live.push(opt);
    const step = () => {
      pass(m).loss.dispose();
      opt.step();
    };
    step();
    step();
    const before = native.liveBytes('cpu');
    for (let i = 0; i < 3; i++) step();
    expect(native.liveBytes('cpu')).toBe(before);
  });
});

export type { Tensor };

// Layer-graph mechanics the VGG tests do not reach: fused and unfused Conv/Linear/BatchNorm + ReLU agree, Flatten
// of a blocked activation larger than 1x1 (copy path), Dropout in train and eval mode, layout checks.
import { afterAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { native } from '../../lib/backend.js';
import { fromFloat32, type Tensor } from '../../lib/tensor.js';
import { Conv2d } from '../../lib/nn/conv.js';
import { Linear } from '../../lib/nn/linear.js';
import { Dropout, Flatten, ReLU } from '../../lib/nn/activation.js';
import { MaxPool2d } from '../../lib/nn/pool.js';
import { BatchNorm2d } from '../../lib/nn/batchnorm.js';
import { Sequential } from '../../lib/nn/sequential.js';
import { initialize } from '../../lib/nn/init.js';
import { loadStateDict, stateDict } from '../../lib/nn/state.js';
import { registerSummary } from '../../lib/cli/summary.js';
import { expectClose, rand } from '../helpers/check.js';

const live: Array<{ dispose(): void }> = [];
afterAll(() => live.forEach((t) => t.dispose()));

const net = (fuse: boolean) => {
  const s = new Sequential([
    new Conv2d(3, 16, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2), new Conv2d(16, 32, 3, { padding: 1 }), new BatchNorm2d(32),
    new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(32 * 4 * 4, 20), new ReLU(), new Dropout(0.5), new Linear(20, 5),
  ], { fuse });
  live.push(s);
  return s;
};

const arr = (t: Tensor) => native.toArray(t) as Float32Array;

describe('layer graph', () => {
  it('fused and unfused Conv/Linear/BatchNorm + ReLU give the same outputs and gradients; Flatten copies blocked 4x4 maps', () => {
    const [a, b] = [net(true), net(false)];
    initialize(a, { seed: 1 });
    loadStateDict(b, stateDict(a));
    (b.layers[10] as Dropout).seed = (a.layers[10] as Dropout).seed; // same masks in both
    const x = fromFloat32('cpu', [3, 3, 16, 16], Float32Array.from(rand(3 * 3 * 256, 2)));
    const dy = fromFloat32('cpu', [3, 5], Float32Array.from(rand(15, 3)));
    live.push(x, dy);
    const res = [a, b].map((m) => {
      m.needsInputGrad = true;
      expect(m.build('cpu', [3, 3, 16, 16])).toEqual([3, 5]);
      const y = Array.from(arr(m.forward(x)));
      const dx = Array.from(arr(m.backward(dy)!));
      return { y, dx, grads: m.parameters().map((p) => Array.from(arr(p.grad))) };
    });
    expectClose(res[0].y, res[1].y, 1e-6, 'y');
    expectClose(res[0].dx, res[1].dx, 1e-6, 'dx');
    res[0].grads.forEach((g, i) => expectClose(g, res[1].grads[i], 1e-6, `grad ${i}`));
    expect((a.layers[0] as Conv2d).fuseRelu).toBe(true);
    expect((b.layers[0] as Conv2d).fuseRelu).toBe(false);
    expect((a.layers[4] as BatchNorm2d).fuseRelu).toBe(true);
    expect((a.layers[5] as ReLU).maskedByPrevious).toBe(true);  // the BatchNorm backward masks dy
    expect((a.layers[1] as ReLU).maskedByPrevious).toBe(false);
    expect(a.layers[6].outputLayout).toBe(native.preferredLayout('cpu', [3, 32, 4, 4]));
  });

  it('Dropout: train mode zeroes or scales by 1/(1-p), masks change per step; eval is the identity', () => {
    const d = new Dropout(0.25);
    live.push(d);
    d.seed = 9;
    const xs = Float32Array.from(rand(4000, 5));
    const x = fromFloat32('cpu', [40, 100], xs);
    const g = fromFloat32('cpu', [40, 100], Float32Array.from(rand(4000, 6)));
    live.push(x, g);
    d.build('cpu', [40, 100]);
    const y1 = Array.from(arr(d.forward(x)));
    const dx = arr(d.backward(g)!);
    const gs = arr(g);
    let zeros = 0;
    y1.forEach((v, i) => {
      if (v === 0) zeros++;
      else expect(v).toBeCloseTo(xs[i] / 0.75, 5);
      expect(dx[i]).toBeCloseTo(v === 0 ? 0 : gs[i] / 0.75, 5);
    });
    expect(zeros / 4000).toBeGreaterThan(0.2);
    expect(zeros / 4000).toBeLessThan(0.3);
    const y2 = Array.from(arr(d.forward(x)));
    expect(y2).not.toEqual(y1);
    expect(d.counter).toBe(2);
    d.eval();
    expect(d.forward(x)).toBe(x);
  });

  it('forward refuses an input the module was not built for', () => {
    const c = new Conv2d(3, 8, 3, { padding: 1 });
    live.push(c);
    expect(() => c.forward(fromFloat32('cpu', [1, 3, 4, 4], new Float32Array(48).fill(1)))).toThrow(/call build/);
    c.build('cpu', [2, 3, 4, 4]);
    const x = fromFloat32('cpu', [1, 3, 4, 4], new Float32Array(48).fill(1));
    live.push(x);
    expect(() => c.forward(x)).toThrow(/input is \[1, 3, 4, 4\] plain, but the module was built for \[2, 3, 4, 4\]/);
    expect(() => new Conv2d(3, 0, 3)).toThrow(/outChannels/);
  });
});

describe('vgg-cifar summary', () => {
  async function cli(...args: string[]): Promise<string> {
    const p = new Command().exitOverride();
    registerSummary(p);
    let out = '';
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
    try {
      await p.parseAsync(['node', 'vgg-cifar', 'summary', ...args]);
    } finally {
      process.stdout.write = orig;
    }
    return out;
  }

  it('prints the table, --json gives the same numbers', async () => {
    const text = await cli('--model', 'vgg16', '--relu-on-logits');
    expect(text).toContain('             ReLU-38                   [-1, 10]               0');
    expect(text).toContain('Estimated Total Size (MB): 60.85');
    const j = JSON.parse(await cli('--model', 'vgg16', '--bn', '--input', '3,64,64', '--json'));
    expect(j.rows.length).toBe(50);
    expect(j.rows[j.rows.length - 5]).toMatchObject({ layer: 'Linear-46', outputShape: [-1, 100], params: 2048 * 100 + 100 });
    expect(j.model).toMatchObject({ depth: 16, batchNorm: true, inputSize: [64, 64] });
    await expect(cli('--model', 'vgg17')).rejects.toThrow(/--model must be vgg11/);
    await expect(cli('--input', '3,32')).rejects.toThrow(/--input must be three/);
  });
});

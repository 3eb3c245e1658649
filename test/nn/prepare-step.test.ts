// prepareStep(): the host effects of a training forward (BatchNorm's batch count, Dropout's seed draw, the
// loss's counts) done ahead, so the forward/loss/backward are device work a captured CUDA graph can
// replay. A prepared forward must equal an unprepared one bit for bit; k more prepareStep() calls without
// a forward (k graph replays) must advance every counter by exactly k; and a whole training step in
// prepare/launch form must equal the eager step.
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { BatchLoader, splitToDevice, type Cifar10Split } from '../../lib/data/index.js';
import { vgg, type Vgg } from '../../lib/models/vgg.js';
import { Dropout } from '../../lib/nn/activation.js';
import { BatchNorm2d } from '../../lib/nn/batchnorm.js';
import { initialize } from '../../lib/nn/init.js';
import { SoftmaxCrossEntropyLoss } from '../../lib/nn/loss.js';
import type { Module } from '../../lib/nn/module.js';
import { mixSeed } from '../../lib/nn/rng.js';
import { stateDict } from '../../lib/nn/state.js';
import { createOptimizer } from '../../lib/optim/index.js';
import { fromFloat32, fromInt32, toFloat32, toInt32, writeSeed, type Tensor } from '../../lib/tensor.js';
import { rand, randInt } from '../helpers/check.js';
import { batchBytes } from '../data/fixtures.js';

const live: Array<{ dispose(): void }> = [];
afterAll(() => live.forEach((t) => t.dispose()));
const keep = <T extends { dispose(): void }>(t: T): T => {
  live.push(t);
  return t;
};
const bits = (t: Tensor): number[] => Array.from(t.dtype === 'bfloat16' ? (native.toArray(t) as Uint16Array) : new Uint32Array(toFloat32(t).buffer));
const input = (shape: number[], seed: number) => keep(fromFloat32('cpu', shape, Float32Array.from(rand(shape.reduce((a, b) => a * b), seed))));
const modules = <T>(m: Module, cls: new (...a: never[]) => T): T[] => m.namedModules().map(([, x]) => x).filter((x): x is T => x instanceof cls);

/** A tiny VGG11-BN with the 'standard' classifier: every layer with per-step host state (BatchNorm2d, Dropout). */
function small(): Vgg {
  const m = keep(vgg({ depth: 11, widthDivisor: 8, batchNorm: true, classifier: 'standard', hidden: 16, dropout: 0.4 }));
  initialize(m, { scheme: 'kaiming_normal', mode: 'fan_out', seed: 3 });
  for (const [i, d] of modules(m, Dropout).entries()) d.seed = 0x90000000 + i; // a seed >= 2^31
  return m;
}

describe('prepareStep of the layers', () => {
  it.each(['fp32', 'bf16'] as const)('a prepared forward equals an unprepared one bit for bit (%s): outputs, masks, statistics, counters', (precision) => {
    const a = small().setPrecision(precision);
    const b = small().setPrecision(precision);
    const x = input([4, 3, 32, 32], 1);
    const dy = input([4, 10], 2);
    for (const m of [a, b]) m.build('cpu', x.shape);
    for (let step = 0; step < 3; step++) {
      b.prepareStep();
      const ya = bits(a.forward(x));
      const yb = bits(b.forward(x));
      expect(yb).toEqual(ya);
      // The gradients pass through both dropout masks and the BN backward: equal masks, equal gradients.
      a.backward(dy);
      b.backward(dy);
      for (const [pa, pb] of a.parameters().map((p, i) => [p, b.parameters()[i]] as const)) expect(bits(pb.grad), pa.name).toEqual(bits(pa.grad));
    }
    for (const [ba, bb] of a.buffers().map((x, i) => [x, b.buffers()[i]] as const)) expect(bits(bb.value), ba.name).toEqual(bits(ba.value));
    expect(modules(b, BatchNorm2d).map((n) => n.numBatchesTracked)).toEqual(modules(a, BatchNorm2d).map((n) => n.numBatchesTracked));
    expect(modules(b, Dropout).map((d) => d.counter)).toEqual([3, 3]);
    expect(modules(a, Dropout).map((d) => d.counter)).toEqual([3, 3]);
    expect(modules(a, BatchNorm2d)[0].numBatchesTracked).toBe(3);
  });

  it('replay simulation: k more prepareStep() calls without a forward advance every counter by exactly k', () => {
    const m = small();
    const loss = keep(new SoftmaxCrossEntropyLoss());
    const x = input([5, 3, 32, 32], 4);
    const labels = keep(fromInt32('cpu', [5], randInt(5, 5, 10)));
    loss.build('cpu', m.build('cpu', x.shape));
    m.prepareStep();
    loss.prepareStep(5);
    loss.forward(m.forward(x), labels);
    const bns = modules(m, BatchNorm2d);
    const drops = modules(m, Dropout);
    expect(bns.map((n) => n.numBatchesTracked)).toEqual(bns.map(() => 1));
    expect(drops.map((d) => d.counter)).toEqual([1, 1]);
    const k = 4;
    for (let i = 0; i < k; i++) {
      m.prepareStep();
      loss.prepareStep(5);
    }
    expect(bns.map((n) => n.numBatchesTracked)).toEqual(bns.map(() => 1 + k));
    expect(drops.map((d) => d.counter)).toEqual([1 + k, 1 + k]);
    // The seed tensor holds the last drawn seed, the one step 1 + k (counter k) uses.
    for (const d of drops) expect(toInt32(d.seedTensor!)[0] >>> 0).toBe(mixSeed(d.seed, k));
    const r = loss.read(false);
    expect({ batches: r.batches, samples: r.samples }).toEqual({ batches: 1 + k, samples: 5 * (1 + k) });
    // The forward after them consumes the last preparation: it counts nothing more.
    loss.forward(m.forward(x), labels);
    expect(bns.map((n) => n.numBatchesTracked)).toEqual(bns.map(() => 1 + k));
    expect(drops.map((d) => d.counter)).toEqual([1 + k, 1 + k]);
    expect(loss.read().batches).toBe(1 + k);
    // and an unprepared one counts itself again, as always
    loss.forward(m.forward(x), labels);
    expect(bns.map((n) => n.numBatchesTracked)).toEqual(bns.map(() => 2 + k));
    expect(drops.map((d) => d.counter)).toEqual([2 + k, 2 + k]);
    expect(loss.read().batches).toBe(1);
  });

  it('rearmStep: a prepared forward whose work was thrown away (a failed capture) runs again as the same prepared step', () => {
    const ref = small();
    const m = small();
    const loss = keep(new SoftmaxCrossEntropyLoss());
    const x = input([5, 3, 32, 32], 6);
    const labels = keep(fromInt32('cpu', [5], randInt(5, 6, 10)));
    ref.build('cpu', x.shape);
    loss.build('cpu', m.build('cpu', x.shape));
    ref.prepareStep();
    const expected = bits(ref.forward(x));
    m.prepareStep();
    loss.prepareStep(5);
    loss.forward(m.forward(x), labels); // the thrown-away attempt consumed the preparation
    m.rearmStep();
    loss.rearmStep();
    const y = m.forward(x);
    expect(bits(y)).toEqual(expected); // same dropout masks: the same seeds, not fresh draws
    loss.forward(y, labels);
    expect(modules(m, Dropout).map((d) => d.counter)).toEqual([1, 1]);
    expect(modules(m, BatchNorm2d).map((n) => n.numBatchesTracked)).toEqual(modules(m, BatchNorm2d).map(() => 1));
    expect(loss.read().batches).toBe(1);
    // without a preparation to repeat, rearmStep arms nothing: the next forward counts itself
    const fresh = small();
    fresh.build('cpu', x.shape);
    fresh.rearmStep();
    fresh.forward(x);
    expect(modules(fresh, Dropout).map((d) => d.counter)).toEqual([1, 1]);
  });

  it('the prepared dropout mask is the one the eager layer draws for the same step, and eval prepares nothing', () => {
    const d = keep(new Dropout(0.5));
    const e = keep(new Dropout(0.5));
    d.seed = e.seed = 0xabcdef01;
    const x = input([8, 50], 7);
    for (const l of [d, e]) l.build('cpu', x.shape);
    d.prepareStep();
    d.prepareStep(); // a replayed step: draws counter 1 for the next forward
    e.forward(x);
    const want = bits(e.forward(x)); // eager step 2 (counter 1)
    expect(bits(d.forward(x))).toEqual(want);
    expect(d.counter).toBe(2);
    // The prepared forward reads its seed from the device tensor (a replay finds there what the last
    // prepareStep wrote), not from the host.
    d.prepareStep();
    writeSeed(d.seedTensor!, mixSeed(d.seed, 0));
    expect(bits(d.forward(x))).not.toEqual(bits(e.forward(x)));
    e.counter = 0;
    d.prepareStep();
    writeSeed(d.seedTensor!, mixSeed(d.seed, 0));
    expect(bits(d.forward(x))).toEqual(bits(e.forward(x)));
    expect(d.counter).toBe(4);
    d.eval();
    d.prepareStep();
    expect(d.counter).toBe(4);
    expect(d.forward(x)).toBe(x);
    const bn = keep(new BatchNorm2d(3)).eval();
    bn.prepareStep();
    expect(bn.numBatchesTracked).toBe(0);
  });

  it('the loss: prepared counts equal unprepared ones, and a mismatched batch or a bad size is refused', () => {
    const a = keep(new SoftmaxCrossEntropyLoss({ labelSmoothing: 0.1 }));
    const b = keep(new SoftmaxCrossEntropyLoss({ labelSmoothing: 0.1 }));
    const logits = input([6, 10], 9);
    const labels = keep(fromInt32('cpu', [6], randInt(6, 9, 10)));
    for (const l of [a, b]) l.build('cpu', [6, 10]);
    for (let i = 0; i < 3; i++) {
      b.prepareStep(6);
      expect(bits(b.forward(logits, labels)!)).toEqual(bits(a.forward(logits, labels)!));
    }
    expect(b.read()).toEqual(a.read());
    b.prepareStep(5);
    expect(() => b.forward(logits, labels)).toThrow(/^SoftmaxCrossEntropyLoss: prepareStep counted a batch of 5, but the logits are \[6, 10\]$/);
    expect(() => b.prepareStep(0)).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => b.prepareStep(2.5)).toThrow(/batchSize must be a positive integer, got 2.5/);
  });
});

describe('a training step in prepare/launch form', () => {
  it.each(['fp32', 'bf16'] as const)('equals the eager step bit for bit over two epochs with a partial last batch (%s)', (precision) => {
    const N = 2 * 8 + 3;
    const bb = batchBytes(N, 21);
    const split: Cifar10Split = { count: N, images: bb.images, labels: bb.labels };
    const data = keep(splitToDevice(split, 'cpu'));
    const run = (prepared: boolean) => {
      const model: Vgg = keep(vgg({ depth: 11, widthDivisor: 8, batchNorm: true, classifier: 'standard', hidden: 32, dropout: 0.3 })).setPrecision(precision);
      initialize(model, { scheme: 'kaiming_normal', mode: 'fan_out', linearStd: 0.01, seed: 11 });
      const loader = keep(new BatchLoader(data, { batchSize: 8, shuffle: true, augment: true, normalize: true, seed: 5 }));
      const loss = keep(new SoftmaxCrossEntropyLoss());
      const opt = keep(createOptimizer(model.parameters(), { kind: 'adamw', lr: 1e-3, weightDecay: 0.01 }));
      const readings: unknown[] = [];
      for (let epoch = 0; epoch < 2; epoch++) {
        for (let step = 0; step < loader.batchesPerEpoch; step++) {
          model.train();
          if (prepared) {
            const pb = loader.prepare(epoch, step);
            loss.build('cpu', model.build('cpu', [pb.size, 3, 32, 32]));
            model.prepareStep();
            loss.prepareStep(pb.size);
            const b = loader.launch(pb);
            model.backward(loss.forward(model.forward(b.images), b.labels)!);
          } else {
            const b = loader.load(epoch, step);
            model.build('cpu', [b.size, 3, 32, 32]);
            const logits = model.forward(b.images);
            loss.build('cpu', logits.shape);
            model.backward(loss.forward(logits, b.labels)!);
          }
          opt.step();
          if (step % 2 === 1) readings.push(loss.read());
        }
      }
      readings.push(loss.read());
      const state = [...stateDict(model)].map(([name, t]) => [name, t.data instanceof Float32Array
        ? Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)) : Array.from(t.data as ArrayLike<bigint>, String)]);
      return { state, readings, dropout: modules(model, Dropout).map((d) => d.counter) };
    };
    const eager = run(false);
    const split2 = run(true);
    expect(eager.dropout).toEqual([6, 6]);
    expect(split2.dropout).toEqual(eager.dropout);
    expect(split2.readings).toEqual(eager.readings);
    expect(split2.state).toEqual(eager.state);
    expect(eager.state.find(([n]) => n === 'net.1.num_batches_tracked')?.[1]).toEqual(['6']);
  });
});

// Training and evaluation with CUDA graphs on a GPU: a graph-replayed run equals the eager run bit for bit
// (same kernels, same order) with a learning rate that changes every step, for SGD, Adam and Adagrad, in
// fp32 and bf16, with a partial last batch; an aborted and resumed run equals an uninterrupted one; the
// non-finite guard keeps working; a capture that fails falls back to eager with one notice.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { loadCheckpoint } from '../../lib/nn/checkpoint.js';
import { StepGraphs } from '../../lib/step-graphs.js';
import { vgg } from '../../lib/models/vgg.js';
import { initialize } from '../../lib/nn/init.js';
import { SoftmaxCrossEntropyLoss } from '../../lib/nn/loss.js';
import { createOptimizer } from '../../lib/optim/create.js';
import { runTraining } from '../../lib/train/loop.js';
import { resolveTrainOptions, type TrainOptions } from '../../lib/train/options.js';
import type { TrainHistory } from '../../lib/train/events.js';
import { tempDir } from '../data/fixtures.js';
import { writeLearnableDataset } from '../train/fixtures.js';
import { describeGpu, emulated, gpu } from './parity.js';

const data = writeLearnableDataset(tempDir('graph-train'), 120);
// 600 training images in batches of 128: 4 full batches and one of 88 per epoch; 120 test images.
// The emulator (native/emu) runs a narrower model: the same steps, batches and graphs at a quarter of the work.
const opts = (over: Partial<TrainOptions>): TrainOptions => resolveTrainOptions({ data, out: tempDir('graph-run'), backend: gpu, model: 'vgg11',
  widthDivisor: emulated ? 16 : 4, batchNorm: true, classifier: 'standard', batchSize: 128, epochs: 3, schedule: 'onecycle', augment: true, normalize: true,
  seed: 5, report: false, display: 2, ...over });

/** Every tensor of a checkpoint as bytes, by name. */
function checkpointBytes(file: string): Map<string, string> {
  const ck = loadCheckpoint(file);
  const out = new Map<string, string>();
  const training = [...(ck.training ?? new Map())].map(([k, t]) => [`training.${k}`, t] as const);
  for (const [k, t] of [...ck.model, ...(ck.optimizer?.tensors ?? new Map()), ...training]) out.set(k, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64'));
  return out;
}

function expectGraphsUsed(h: TrainHistory): void {
  if (gpu !== 'cuda') return; // VGG_CIFAR_GPU_TESTS_ON_CPU=1 checks the test's own logic only
  expect(h.graphs!.off).toBeNull();
  expect(h.graphs!.failed).toEqual({});
  expect(h.graphs!.replayed).toBeGreaterThan(0);
}

describeGpu('training with CUDA graphs', () => {
  const cases: Array<[string, Partial<TrainOptions>]> = [
    ['sgd nesterov, fp32', { optimizer: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }],
    ['adam, bf16', { optimizer: 'adam', lr: 2e-3, precision: 'bf16' }],
    ['adamw, fp32 tf32', { optimizer: 'adamw', lr: 2e-3, weightDecay: 0.05, tf32: true }],
    ['adagrad, bf16, flip TTA', { optimizer: 'adagrad', lr: 0.02, precision: 'bf16', labelSmoothing: 0.1, tta: 'flip' }],
    // the averaged weights go in and out of the storages the graphs read; the plain last epoch is a graph of its own
    ['sgd, bf16, averaged weights, a plain last epoch', { optimizer: 'sgd', lr: 0.05, momentum: 0.9, precision: 'bf16', emaDecay: 0.9, emaEvery: 2, plainEpochs: 1 }],
  ];
  it.each(cases)('a graph-replayed run equals the eager run bit for bit: weights, optimizer state, losses, test accuracy (%s)', async (_name, over) => {
    const eager = opts({ ...over, graphs: 'off' });
    const graphed = opts({ ...over, graphs: 'auto' });
    const he = await runTraining(eager);
    const hg = await runTraining(graphed);
    expectGraphsUsed(hg);
    expect(hg.steps.map((s) => s.loss)).toEqual(he.steps.map((s) => s.loss));
    expect(hg.epochs.map((e) => [e.trainLoss, e.trainAccuracy, e.testLoss, e.testAccuracy])).toEqual(he.epochs.map((e) => [e.trainLoss, e.trainAccuracy, e.testLoss, e.testAccuracy]));
    const a = checkpointBytes(join(eager.out, 'cifar10_epoch_3.safetensors'));
    const b = checkpointBytes(join(graphed.out, 'cifar10_epoch_3.safetensors'));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(b.get(k), k).toBe(v);
  });

  it('an aborted run resumed from its checkpoint equals an uninterrupted one, with graphs', async () => {
    const straight = opts({ optimizer: 'sgd', lr: 0.05, momentum: 0.9, epochs: 2 });
    await runTraining(straight);
    const o = opts({ optimizer: 'sgd', lr: 0.05, momentum: 0.9, epochs: 2 });
    let steps = 0;
    // Stopped after step 3 of 10 (5 a epoch, the 5th partial): the resumed run's steps 4-10 warm up, capture and
    // replay both batch shapes again (stopped after step 7, its three steps would all be warm-ups or captures).
    const h = await runTraining(o, { shouldStop: () => ++steps > 3 });
    expect(h.aborted).toBe(true);
    expectGraphsUsed(h);
    const resumed = await runTraining({ ...o, resume: join(o.out, 'cifar10_interrupted.safetensors') });
    expectGraphsUsed(resumed);
    const a = checkpointBytes(join(straight.out, 'cifar10_epoch_2.safetensors'));
    const b = checkpointBytes(join(o.out, 'cifar10_epoch_2.safetensors'));
    for (const [k, v] of a) expect(b.get(k), k).toBe(v);
  });

  it('--skip-non-finite keeps working: forward and backward replayed, the update decided on the host', async () => {
    const eager = opts({ optimizer: 'sgd', lr: 0.05, momentum: 0.9, epochs: 1, skipNonFinite: true, graphs: 'off' });
    const graphed = opts({ optimizer: 'sgd', lr: 0.05, momentum: 0.9, epochs: 1, skipNonFinite: true });
    const he = await runTraining(eager);
    const hg = await runTraining(graphed);
    expectGraphsUsed(hg);
    expect(hg.steps.map((s) => s.loss)).toEqual(he.steps.map((s) => s.loss));
    const a = checkpointBytes(join(eager.out, 'cifar10_epoch_1.safetensors'));
    const b = checkpointBytes(join(graphed.out, 'cifar10_epoch_1.safetensors'));
    for (const [k, v] of a) expect(b.get(k), k).toBe(v);
  });

  it('1,000 replayed training steps (Adam, bf16 VGG11-BN with dropout) allocate nothing and stay finite (50 on the emulator)', () => {
    const model = vgg({ depth: 11, batchNorm: true, classifier: 'standard', widthDivisor: 8, hidden: 64 }).setPrecision('bf16');
    initialize(model, { scheme: 'kaiming_normal', mode: 'fan_out', seed: 2 });
    const shape = model.build(gpu, [32, 3, 32, 32]);
    const loss = new SoftmaxCrossEntropyLoss({ labelSmoothing: 0.1 });
    loss.build(gpu, shape);
    const opt = createOptimizer(model.parameters(), { kind: 'adam', lr: 1e-3, weightDecay: 5e-4 });
    const x = native.fromArray(gpu, [32, 3, 32, 32], Float32Array.from({ length: 32 * 3072 }, (_, i) => Math.sin(i)));
    const y = native.fromArray(gpu, [32], Int32Array.from({ length: 32 }, (_, i) => i % 10));
    const g = new StepGraphs({ device: gpu, env: {} });
    const step = () => {
      model.train();
      model.prepareStep();
      loss.prepareStep(32);
      opt.lr = 1e-3 * (0.5 + Math.random());
      opt.prepareStep();
      g.run('train', () => {
        model.backward(loss.forward(model.forward(x), y)!);
        opt.applyStep();
      }, () => { model.rearmStep(); loss.rearmStep(); });
    };
    try {
      // cpu against cpu (VGG_CIFAR_GPU_TESTS_ON_CPU=1, the test's own logic) takes a few steps only
      const n = gpu !== 'cuda' ? 5 : emulated ? 50 : 1000;
      for (let i = 0; i < 3; i++) step();
      const live = native.liveBytes(gpu);
      for (let i = 0; i < n; i++) step();
      const r = loss.read();
      expect(Number.isFinite(r.loss)).toBe(true);
      expect(r.batches).toBe(n + 3);
      expect(native.liveBytes(gpu)).toBe(live);
      if (gpu === 'cuda') expect(g.stats).toMatchObject({ eager: 1, captured: 1, replayed: n + 1, failed: {} });
    } finally {
      g.dispose();
      opt.dispose();
      loss.dispose();
      model.dispose();
      x.dispose();
      y.dispose();
    }
  });

  it('a capture that fails (a host read inside the step) falls back to eager with one notice, and the step still runs', () => {
    if (gpu !== 'cuda') return;
    const x = native.fromArray('cuda', [4], Float32Array.of(-1, 2, -3, 4));
    const y = native.empty('cuda', [4], 'float32');
    const notices: string[] = [];
    const g = new StepGraphs({ device: 'cuda', onNotice: (m) => notices.push(m), env: {} });
    const seen: number[][] = [];
    try {
      for (let i = 0; i < 4; i++) {
        native.write(x, Float32Array.of(-1, 2, -3, i));
        expect(g.run('reading', () => {
          native.reluForward(x, y);
          seen.push(Array.from(native.toArray(y)));
        })).toBe('eager');
      }
      expect(seen.at(-1)).toEqual([0, 2, 0, 3]);
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/capture of the reading step failed, so it runs eagerly .*toArray: a copy to the host/);
      expect(native.graphCaptureId()).toBe(0);
    } finally {
      g.dispose();
      x.dispose();
      y.dispose();
    }
  });
});

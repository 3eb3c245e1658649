import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { currentKey, defaultCacheFile, writeCachedSpeed } from '../../lib/bf16-cache.js';
import { runTraining } from '../../lib/train/loop.js';
import { resolveTrainOptions, type TrainOptions } from '../../lib/train/options.js';
import { loadCheckpoint } from '../../lib/nn/checkpoint.js';
import { evaluate } from '../../lib/train/evaluate-api.js';
import { tempDir } from '../data/fixtures.js';
import { maxDiff, writeLearnableDataset } from './fixtures.js';

const data = writeLearnableDataset(tempDir('learnable'), 200);

function opts(over: Partial<TrainOptions>): TrainOptions {
  return resolveTrainOptions({ data, out: tempDir('run'), backend: 'cpu', model: 'vgg11', widthDivisor: 8, batchNorm: true,
    optimizer: 'sgd', lr: 0.05, momentum: 0.9, batchSize: 32, epochs: 2, display: 5, seed: 3, report: false, ...over });
}

describe('training loop', () => {
  it('learns: a small VGG on generated data gets the loss well below ln 10 and test accuracy well above chance', async () => {
    // cosine decay: at a constant lr 0.05 the loss of this easy task reaches ~0 and then spikes now and
    // then (seen in epoch 8 with Winograd convolutions: test accuracy 1.0 -> 0.575), so the last epoch
    // would test luck rather than learning
    const o = opts({ epochs: 8, schedule: 'cosine' });
    const h = await runTraining(o);
    const last = h.epochs.at(-1)!;
    expect(h.epochs).toHaveLength(8);
    expect(last.trainLoss).toBeLessThan(1.0);
    expect(last.testAccuracy!).toBeGreaterThan(0.6);
    // checkpoints every `saveEvery` (10) epochs and at the end, named by epochs completed
    expect(readdirSync(o.out).filter((f) => f.endsWith('.safetensors'))).toEqual(['cifar10_epoch_8.safetensors']);
    const r = await evaluate({ checkpoint: join(o.out, 'cifar10_epoch_8.safetensors'), data, backend: 'cpu' });
    expect(r.split).toBe('test');
    expect(r.count).toBe(200);
    expect(r.accuracy).toBeCloseTo(last.testAccuracy!, 6);
    expect(r.confusion.flat().reduce((a, b) => a + b, 0)).toBe(200);
  });

  it('learns in bf16 mixed precision too, and resumes a bf16 run exactly (fp32 master weights in the checkpoint)', async () => {
    const o = opts({ epochs: 8, schedule: 'cosine', precision: 'bf16', saveEvery: 4 });
    // bf16 measured slower here (injected): the run says so once, in its warnings, and trains all the same
    const cacheHome = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = tempDir('bf16-slow-cache');
    let h;
    try {
      writeCachedSpeed(defaultCacheFile(), currentKey(), { speedup: 0.5, fp32Ms: 10, bf16Ms: 20, workload: 'injected', measuredAt: new Date().toISOString(),
        tookMs: 300, contention: 0 });
      h = await runTraining(o);
    } finally {
      process.env.XDG_CACHE_HOME = cacheHome;
    }
    const last = h.epochs.at(-1)!;
    expect(last.trainLoss).toBeLessThan(1.0);
    expect(last.testAccuracy!).toBeGreaterThan(0.6);
    expect(h.warnings.filter((w) => w.message.includes('bf16 is slower than fp32'))).toHaveLength(1);
    const ck = loadCheckpoint(join(o.out, 'cifar10_epoch_8.safetensors'));
    expect([...ck.model.values()].every((t) => t.dtype === 'F32' || t.dtype === 'I64')).toBe(true);
    // the fp32 checkpoint evaluates in either precision, to nearly the same accuracy
    const file = join(o.out, 'cifar10_epoch_8.safetensors');
    const [e32, e16] = await Promise.all([evaluate({ checkpoint: file, data, backend: 'cpu' }), evaluate({ checkpoint: file, data, backend: 'cpu', precision: 'bf16' })]);
    expect(e16.accuracy).toBeCloseTo(last.testAccuracy!, 6);
    expect(Math.abs(e32.accuracy - e16.accuracy)).toBeLessThanOrEqual(0.05);
    const resumed = { ...o, out: tempDir('run'), resume: join(o.out, 'cifar10_epoch_4.safetensors') };
    await runTraining(resumed);
    const again = loadCheckpoint(join(resumed.out, 'cifar10_epoch_8.safetensors'));
    expect(maxDiff(ck.model as never, again.model as never)).toBeLessThanOrEqual(1e-6);
  });

  it('resumes exactly: 2 epochs straight equal 1 epoch, then --resume for the second', async () => {
    const straight = opts({ epochs: 2, saveEvery: 1, augment: true, normalize: true });
    await runTraining(straight);
    const first = opts({ epochs: 2, saveEvery: 1, augment: true, normalize: true });
    let stops = 0;
    const h1 = await runTraining({ ...first, epochs: 1 });
    expect(h1.epochs).toHaveLength(1);
    const resumed = { ...first, resume: join(first.out, 'cifar10_epoch_1.safetensors') };
    await runTraining(resumed, { shouldStop: () => ++stops > 1e9 });
    const a = loadCheckpoint(join(straight.out, 'cifar10_epoch_2.safetensors'));
    const b = loadCheckpoint(join(first.out, 'cifar10_epoch_2.safetensors'));
    expect(b.epoch).toBe(2);
    expect(maxDiff(a.model as never, b.model as never)).toBeLessThanOrEqual(1e-6);
  });

  it('stops cleanly mid-epoch with a checkpoint, and resuming from it matches an uninterrupted run', async () => {
    const straight = opts({ epochs: 1 });
    await runTraining(straight);
    const o = opts({ epochs: 1 });
    let steps = 0;
    const h = await runTraining(o, { onProgress: () => {}, shouldStop: () => ++steps > 20 });
    expect(h.aborted).toBe(true);
    const ck = join(o.out, 'cifar10_interrupted.safetensors');
    expect(existsSync(ck)).toBe(true);
    expect(h.checkpoints.at(-1)!.reason).toBe('abort');
    await runTraining({ ...o, resume: ck });
    const a = loadCheckpoint(join(straight.out, 'cifar10_epoch_1.safetensors'));
    const b = loadCheckpoint(join(o.out, 'cifar10_epoch_1.safetensors'));
    expect(maxDiff(a.model as never, b.model as never)).toBeLessThanOrEqual(1e-6);
  });

  it("warns once, in plain words, when the report's configuration stalls at ln 10", async () => {
    const o = resolveTrainOptions({ data, out: tempDir('stall'), backend: 'cpu', reluOnLogits: true, epochs: 1, display: 1,
      stallPatience: 4, limit: 400, evalEveryEpoch: false, seed: 1, report: false });
    const warnings: string[] = [];
    const h = await runTraining(o, { onWarning: (w) => warnings.push(w.message) });
    expect(h.warnings.filter((w) => w.kind === 'stall')).toHaveLength(1);
    expect(warnings[0]).toContain('2.3026 = ln(10)');
    expect(warnings[0]).toContain('ReLU sits on the logits');
    expect(warnings[0]).toMatch(/--bn/);
  });
});

describe('--skip-non-finite', () => {
  it('skips steps whose loss or gradients are NaN/Inf, keeps training and leaves finite weights', async () => {
    const o = opts({ epochs: 1, batchNorm: false, lr: 100, skipNonFinite: true });
    const h = await runTraining(o);
    expect(h.stoppedOnNonFinite).toBe(false);
    expect(h.epochs).toHaveLength(1);
    const skips = h.warnings.filter((w) => w.kind === 'non-finite');
    expect(skips.length).toBeGreaterThan(0);
    expect(skips[0].message).toMatch(/was skipped \(--skip-non-finite; 1 skipped so far\)/);
    const ck = loadCheckpoint(join(o.out, 'cifar10_epoch_1.safetensors'));
    for (const [name, t] of ck.model) {
      for (const v of t.data as ArrayLike<number>) if (!Number.isFinite(Number(v))) throw new Error(`${name} holds ${v}`);
    }
  });

  it('without the option the same run stops at the first non-finite loss', async () => {
    const h = await runTraining(opts({ epochs: 1, batchNorm: false, lr: 100 }));
    expect(h.stoppedOnNonFinite).toBe(true);
  });
});

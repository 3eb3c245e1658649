// The training loop with a moving average of the weights (emaDecay) and with plain final epochs
// (plainEpochs): what the checkpoints hold, what the figures say, and exact resumes.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { runTraining } from '../../lib/train/loop.js';
import { runTraining as runWithReport } from '../../lib/report/training.js';
import { readRunRecord } from '../../lib/train/run-file.js';
import { resolveTrainOptions, type TrainOptions } from '../../lib/train/options.js';
import { loadCheckpoint } from '../../lib/nn/checkpoint.js';
import { evaluate } from '../../lib/train/evaluate-api.js';
import { BatchLoader } from '../../lib/data/batches.js';
import { splitToDevice } from '../../lib/data/device.js';
import { prepareCifar10 } from '../../lib/data/prepare.js';
import { native } from '../../lib/backend.js';
import { Command } from 'commander';
import { flagsToInput, registerTrain, type TrainFlags } from '../../lib/cli/train.js';
import { tempDir } from '../data/fixtures.js';
import { maxDiff, writeLearnableDataset, type Dict } from './fixtures.js';

const data = writeLearnableDataset(tempDir('learnable-ema'), 40);

function opts(over: Partial<TrainOptions>): TrainOptions {
  return resolveTrainOptions({ data, out: tempDir('run-ema'), backend: 'cpu', model: 'vgg11', widthDivisor: 16, batchNorm: true,
    optimizer: 'sgd', lr: 0.05, momentum: 0.9, batchSize: 32, epochs: 2, display: 5, seed: 3, report: false, augment: true, normalize: true, ...over });
}


describe('training with a moving average of the weights', () => {
  it('evaluates the average, saves it as the model with the trained weights beside it, and says so', async () => {
    const o = opts({ emaDecay: 0.9, emaEvery: 2, report: true });
    const h = await runWithReport(o);
    expect(h.epochs.map((e) => e.testEma)).toEqual([true, true]);
    // run.json and report.html say which weights the test figures are of
    const rec = readRunRecord(o.out);
    expect(rec.epochs.map((e) => e.testEma)).toEqual([true, true]);
    expect(rec.evaluation?.averaged).toBe(true);
    expect(readFileSync(join(o.out, 'report.html'), 'utf8')).toContain('moving average of the weights');
    const file = join(o.out, 'cifar10_epoch_2.safetensors');
    const ck = loadCheckpoint(file);
    expect(ck.training).not.toBeNull();
    expect([...ck.training!.keys()].sort()).toEqual([...ck.model.keys()].sort());
    // the average is not the last step's weights
    expect(maxDiff(ck.model as Dict, ck.training as Dict)).toBeGreaterThan(1e-4);
    const run = ck.extra.run as { emaUpdates: number };
    expect(run.emaUpdates).toBe(Math.floor((2 * Math.ceil(200 / 32)) / 2)); // 200 training images, an update every 2 steps
    expect((ck.extra.evaluation as { averaged: boolean; accuracy: number }).averaged).toBe(true);
    // whoever loads the checkpoint gets the weights the run evaluated
    const r = await evaluate({ checkpoint: file, data, backend: 'cpu' });
    expect(r.averaged).toBe(true);
    expect(r.accuracy).toBeCloseTo(h.epochs[1].testAccuracy!, 6);
    expect(r.loss).toBeCloseTo(h.epochs[1].testLoss!, 5);
  });

  it('without an average the figures say so and the checkpoint holds no trained copy', async () => {
    const o = opts({ epochs: 1 });
    const h = await runTraining(o);
    expect(h.epochs[0].testEma).toBe(false);
    expect(loadCheckpoint(join(o.out, 'cifar10_epoch_1.safetensors')).training).toBeNull();
    expect((await evaluate({ checkpoint: join(o.out, 'cifar10_epoch_1.safetensors'), data, backend: 'cpu' })).averaged).toBe(false);
  });

  it('resumes exactly, average and trained weights alike, from an epoch boundary and from mid-epoch', async () => {
    const ema = { emaDecay: 0.95, emaEvery: 3 };
    const straight = opts({ ...ema, epochs: 2, saveEvery: 1 });
    await runTraining(straight);
    const a = loadCheckpoint(join(straight.out, 'cifar10_epoch_2.safetensors'));

    const split = opts({ ...ema, epochs: 2, saveEvery: 1 });
    await runTraining({ ...split, epochs: 1 });
    await runTraining({ ...split, resume: join(split.out, 'cifar10_epoch_1.safetensors') });
    const b = loadCheckpoint(join(split.out, 'cifar10_epoch_2.safetensors'));
    expect(maxDiff(a.model as Dict, b.model as Dict)).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(a.training as Dict, b.training as Dict)).toBeLessThanOrEqual(1e-6);

    // stopped after 4 of the 7 steps of an epoch: not a multiple of emaEvery
    const cut = opts({ ...ema, epochs: 2, saveEvery: 1 });
    let steps = 0;
    const h = await runTraining(cut, { shouldStop: () => ++steps > 4 });
    expect(h.aborted).toBe(true);
    await runTraining({ ...cut, resume: join(cut.out, 'cifar10_interrupted.safetensors') });
    const c = loadCheckpoint(join(cut.out, 'cifar10_epoch_2.safetensors'));
    expect(maxDiff(a.model as Dict, c.model as Dict)).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(a.training as Dict, c.training as Dict)).toBeLessThanOrEqual(1e-6);
  });

  it('refuses an average decay of 1 or more and a cadence below 1, naming the option', () => {
    expect(() => opts({ emaDecay: 1 })).toThrow(/option emaDecay must be in \[0, 0.999999\]; got 1/);
    expect(() => opts({ emaDecay: -0.1 })).toThrow(/emaDecay/);
    expect(() => opts({ emaEvery: 0 })).toThrow(/option emaEvery must be in \[1, 1000000\]; got 0/);
  });
});

describe('plain final epochs', () => {
  it('the loader stops cropping and flipping from plainFromEpoch on: those batches equal an unaugmented loader\'s', async () => {
    const d = await prepareCifar10(data, {});
    const split = splitToDevice(d.train!, 'cpu');
    const aug = new BatchLoader(split, { batchSize: 16, shuffle: true, seed: 4, normalize: true, augment: true, padMode: 'reflect', plainFromEpoch: 2 });
    const plain = new BatchLoader(split, { batchSize: 16, shuffle: true, seed: 4, normalize: true, augment: false });
    try {
      expect(aug.params(1, 0)).toMatchObject({ cropPad: 4, flip: true });
      expect(aug.params(2, 0)).toMatchObject({ cropPad: 0, flip: false });
      expect(aug.params(5, 3)).toMatchObject({ cropPad: 0, flip: false });
      const img = (l: BatchLoader, epoch: number) => Array.from(native.toArray(l.load(epoch, 1).images) as Float32Array);
      expect(img(aug, 2)).toEqual(img(plain, 2));
      expect(img(aug, 1)).not.toEqual(img(plain, 1));
      expect(() => new BatchLoader(split, { batchSize: 16, augment: true, plainFromEpoch: -1 })).toThrow(/plainFromEpoch must be a non-negative integer, got -1/);
    } finally {
      aug.dispose();
      plain.dispose();
      split.dispose();
    }
  });

  it('a run with plain final epochs trains, resumes exactly across the switch, and validates the option', async () => {
    const straight = opts({ epochs: 2, plainEpochs: 1 });
    const h = await runTraining(straight);
    expect(h.epochs).toHaveLength(2);
    // stopped in the plain epoch (steps 8-14 of 7-step epochs)
    const split = opts({ epochs: 2, plainEpochs: 1 });
    let steps = 0;
    expect((await runTraining(split, { shouldStop: () => ++steps > 10 })).aborted).toBe(true);
    await runTraining({ ...split, resume: join(split.out, 'cifar10_interrupted.safetensors') });
    const a = loadCheckpoint(join(straight.out, 'cifar10_epoch_2.safetensors'));
    const b = loadCheckpoint(join(split.out, 'cifar10_epoch_2.safetensors'));
    expect(maxDiff(a.model as Dict, b.model as Dict)).toBeLessThanOrEqual(1e-6);
    // the plain epoch changes the result (the option is not ignored)
    const none = opts({ epochs: 2, plainEpochs: 0 });
    await runTraining(none);
    const c = loadCheckpoint(join(none.out, 'cifar10_epoch_2.safetensors'));
    expect(maxDiff(a.model as Dict, c.model as Dict)).toBeGreaterThan(1e-4);
    expect(() => opts({ epochs: 3, plainEpochs: 3 })).toThrow(/option plainEpochs must be in \[0, 2\]; got 3/);
    expect(() => opts({ epochs: 3, plainEpochs: 1, augment: false })).toThrow(/plainEpochs \(1\) needs augment/);
  });
});

describe('train CLI flags', () => {
  it('--ema, --ema-every and --plain-epochs reach the options; the defaults are off', async () => {
    let got: TrainFlags | null = null;
    const program = new Command().exitOverride();
    registerTrain(program);
    program.commands.find((c) => c.name() === 'train')!.action((f: TrainFlags) => { got = f; });
    await program.parseAsync(['node', 'vgg-cifar', 'train', '--data', 'd', '--recipe', 'fast', '--ema', '0.995', '--ema-every', '4', '--plain-epochs', '2']);
    expect(resolveTrainOptions(flagsToInput(got!))).toMatchObject({ emaDecay: 0.995, emaEvery: 4, plainEpochs: 2 });
    expect(resolveTrainOptions({ data: 'd', recipe: 'fast' })).toMatchObject({ emaDecay: 0, emaEvery: 5, plainEpochs: 0 });
    await expect(program.parseAsync(['node', 'vgg-cifar', 'train', '--data', 'd', '--plain-epochs', 'two'])).rejects.toThrow(/--plain-epochs must be an integer/);
  });
});

// Cutout as a training option: validated, passed to the loader while augmenting (not in plain epochs nor
// in evaluation), reaching the images, and on the CLI.
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { join } from 'node:path';
import { native } from '../../lib/backend.js';
import { BatchLoader } from '../../lib/data/batches.js';
import { splitToDevice } from '../../lib/data/device.js';
import { prepareCifar10 } from '../../lib/data/prepare.js';
import { loadCheckpoint } from '../../lib/nn/checkpoint.js';
import { runTraining } from '../../lib/train/loop.js';
import { resolveTrainOptions } from '../../lib/train/options.js';
import { flagsToInput, registerTrain, type TrainFlags } from '../../lib/cli/train.js';
import { tempDir } from '../data/fixtures.js';
import { maxDiff, writeLearnableDataset } from './fixtures.js';

const data = writeLearnableDataset(tempDir('learnable-cutout'), 40);

describe('Cutout', () => {
  it('the loader hides a square per sample while augmenting, and neither in plain epochs nor without augment', async () => {
    const d = await prepareCifar10(data, {});
    const split = splitToDevice(d.train!, 'cpu');
    const common = { batchSize: 16, shuffle: true, seed: 4, normalize: true, augment: true, padMode: 'reflect' as const, plainFromEpoch: 1 };
    const cut = new BatchLoader(split, { ...common, cutout: 8 });
    const plain = new BatchLoader(split, common);
    try {
      expect(cut.params(0, 0).cutout).toBe(8);
      expect(cut.params(1, 0).cutout).toBe(0);
      const unaugmented = new BatchLoader(split, { batchSize: 4, cutout: 8 });
      expect(unaugmented.params(0, 0).cutout).toBe(0);
      unaugmented.dispose();
      const a = native.toArray(cut.load(0, 1).images) as Float32Array;
      const b = native.toArray(plain.load(0, 1).images) as Float32Array;
      let changed = 0;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) { expect(a[i]).toBe(0); changed++; }
      // 16 samples x 3 channels, each at most 8 x 8 hidden, at least a corner's 4 x 4
      expect(changed).toBeGreaterThanOrEqual(16 * 3 * 16);
      expect(changed).toBeLessThanOrEqual(16 * 3 * 64);
      expect(Array.from(native.toArray(cut.load(1, 1).images) as Float32Array)).toEqual(Array.from(native.toArray(plain.load(1, 1).images) as Float32Array));
    } finally {
      cut.dispose();
      plain.dispose();
      split.dispose();
    }
  });

  it('a training run with --cutout differs from one without, and the option is validated', async () => {
    const o = (cutout: number) => resolveTrainOptions({ data, out: tempDir('run-cutout'), backend: 'cpu', model: 'vgg11', widthDivisor: 16, batchNorm: true,
      optimizer: 'sgd', lr: 0.05, momentum: 0.9, batchSize: 32, epochs: 1, seed: 3, report: false, augment: true, normalize: true, cutout });
    const [a, b] = [o(8), o(0)];
    await runTraining(a);
    await runTraining(b);
    const ka = loadCheckpoint(join(a.out!, 'cifar10_epoch_1.safetensors'));
    const kb = loadCheckpoint(join(b.out!, 'cifar10_epoch_1.safetensors'));
    expect(maxDiff(ka.model as never, kb.model as never)).toBeGreaterThan(1e-4);
    expect(() => o(33)).toThrow(/option cutout must be in \[0, 32\]; got 33/);
    expect(() => resolveTrainOptions({ data, cutout: 8 })).toThrow(/option cutout \(8\) needs augment/);
  });

  it('--cutout reaches the options; off by default', async () => {
    let got: TrainFlags | null = null;
    const program = new Command().exitOverride();
    registerTrain(program);
    program.commands.find((c) => c.name() === 'train')!.action((f: TrainFlags) => { got = f; });
    await program.parseAsync(['node', 'vgg-cifar', 'train', '--data', 'd', '--recipe', 'fast', '--cutout', '8']);
    expect(resolveTrainOptions(flagsToInput(got!)).cutout).toBe(8);
    expect(resolveTrainOptions({ data: 'd', recipe: 'fast' }).cutout).toBe(0);
  });
});

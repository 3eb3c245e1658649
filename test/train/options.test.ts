import { describe, expect, it } from 'vitest';
import { resolveTrainOptions } from '../../lib/train/options.js';

describe('resolveTrainOptions', () => {
  it('defaults reproduce the study report: VGG16, Adam 1e-3, batch 32, 50 epochs, Xavier, display 100, save every 10', () => {
    const o = resolveTrainOptions({ data: 'd' });
    expect(o).toMatchObject({ model: 'vgg16', batchNorm: false, optimizer: 'adam', lr: 1e-3, batchSize: 32, epochs: 50,
      init: 'xavier_uniform', display: 100, saveEvery: 10, classifier: 'report', reluOnLogits: false, augment: false });
  });

  it('the fast recipe uses BatchNorm, SGD Nesterov, one-cycle, weight decay, label smoothing and augmentation', () => {
    const o = resolveTrainOptions({ data: 'd', recipe: 'fast' });
    expect(o).toMatchObject({ batchNorm: true, optimizer: 'sgd', nesterov: true, schedule: 'onecycle', augment: true });
    expect(o.weightDecay).toBeGreaterThan(0);
    expect(o.labelSmoothing).toBeGreaterThan(0);
    expect(o.batchSize).toBeGreaterThan(32);
  });

  it('explicit options override the recipe', () => {
    expect(resolveTrainOptions({ data: 'd', recipe: 'fast', epochs: 2, batchSize: 64 })).toMatchObject({ epochs: 2, batchSize: 64, optimizer: 'sgd' });
  });

  it.each([
    [{ optimizer: 'adamax' }, /option optimizer must be one of adam, adamw, adagrad, sgd; got "adamax"/],
    [{ lr: -1 }, /option lr must be in \[0, 100\]; got -1/],
    [{ lr: 0 }, /option lr must be > 0/],
    [{ lr: Number.NaN }, /option lr must be a finite number/],
    [{ batchSize: 1.5 }, /option batchSize must be an integer; got 1.5/],
    [{ epochs: 0 }, /option epochs must be in \[1, 100000\]; got 0/],
    [{ backend: 'gpu' }, /option backend must be one of auto, cpu, cuda; got "gpu"/],
    [{ precision: 'fp16' }, /option precision must be one of fp32, bf16; got "fp16"/],
    [{ nesterov: true, optimizer: 'adam' }, /nesterov needs optimizer sgd/],
    [{ batchsize: 32 }, /unknown option batchsize/],
    [{ recipe: 'slow' }, /option recipe must be one of report, fast; got "slow"/],
    [{ download: 'yes' }, /option download must be true or false/],
  ])('refuses %j', (bad, msg) => {
    expect(() => resolveTrainOptions({ data: 'd', ...(bad as object) })).toThrow(msg);
  });
});

import { describe, expect, it } from 'vitest';
import { resolveTrainOptions } from '../../lib/train/options.js';
import { scheduleFor } from '../../lib/train/loop.js';
import { scheduleLr } from '../../lib/optim/schedules.js';

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

  it('every field of the fast recipe is written out (no hidden default shapes its result)', () => {
    const o = resolveTrainOptions({ data: 'd', recipe: 'fast' });
    expect(o).toMatchObject({ model: 'vgg16', classifier: 'linear', epochs: 30, batchSize: 512, lr: 0.4, momentum: 0.9, weightDecay: 5e-4,
      warmupShare: 0.25, labelSmoothing: 0.1, init: 'kaiming_normal', padMode: 'reflect', normalize: true, tta: 'none', precision: 'fp32', tf32: false });
  });

  it('the speed recipe: bf16, a large batch, few epochs, flip TTA, label smoothing 0.2, reflect padding', () => {
    const o = resolveTrainOptions({ data: 'd', recipe: 'speed' });
    expect(o).toMatchObject({ batchNorm: true, optimizer: 'sgd', nesterov: true, precision: 'bf16', tta: 'flip', padMode: 'reflect', labelSmoothing: 0.2,
      schedule: 'onecycle', warmupShare: 0.25 });
    expect(o.batchSize).toBeGreaterThanOrEqual(512);
    expect(o.epochs).toBeLessThan(resolveTrainOptions({ data: 'd', recipe: 'fast' }).epochs);
  });

  it("CUDA graphs are 'auto' unless set, in every recipe", () => {
    for (const recipe of ['report', 'fast', 'speed'] as const) expect(resolveTrainOptions({ data: 'd', recipe }).graphs).toBe('auto');
    expect(resolveTrainOptions({ data: 'd', graphs: 'off' }).graphs).toBe('off');
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
    [{ recipe: 'slow' }, /option recipe must be one of report, fast, speed; got "slow"/],
    [{ tta: 'crop' }, /option tta must be one of none, flip; got "crop"/],
    [{ padMode: 'edge' }, /option padMode must be one of zero, reflect; got "edge"/],
    [{ schedule: 'onecycle', warmupShare: 1 }, /one-cycle needs a falling phase/],
    [{ schedule: 'cosine', warmupShare: 1.5 }, /option warmupShare must be in \[0, 1\]; got 1.5/],
    [{ warmupShare: 0.2, warmupEpochs: 2 }, /warmupEpochs \(2\) and warmupShare \(0.2\) both set/],
    [{ download: 'yes' }, /option download must be true or false/],
    [{ graphs: 'always' }, /option graphs must be one of auto, on, off; got "always"/],
  ])('refuses %j', (bad, msg) => {
    expect(() => resolveTrainOptions({ data: 'd', ...(bad as object) })).toThrow(msg);
  });
});

describe('scheduleFor: the warm-up share', () => {
  const at = (o: Parameters<typeof scheduleFor>[0], spe: number) => (t: number) => scheduleLr(scheduleFor(o, spe), o.lr, t);

  it('one-cycle rises over warmupShare of the run (PyTorch pct_start), over 30% when neither warm-up field is set', () => {
    const o = resolveTrainOptions({ data: 'd', recipe: 'fast', epochs: 10, warmupShare: 0.25 });
    const lr = at(o, 100);
    expect(lr(249)).toBeCloseTo(o.lr, 12); // the peak is at pct_start * total - 1
    expect(lr(200)).toBeLessThan(lr(249));
    expect(lr(300)).toBeLessThan(lr(249));
    const dflt = at(resolveTrainOptions({ data: 'd', recipe: 'fast', epochs: 10, warmupShare: 0 }), 100);
    expect(dflt(299)).toBeCloseTo(o.lr, 12);
    // warmupEpochs, when given, is the same thing in epochs
    expect(at(resolveTrainOptions({ data: 'd', recipe: 'fast', epochs: 10, warmupShare: 0, warmupEpochs: 2.5 }), 100)(249)).toBeCloseTo(o.lr, 12);
  });

  it("'linear' rises from 0 to lr over the warm-up and falls linearly to 0 at the last step", () => {
    const o = resolveTrainOptions({ data: 'd', recipe: 'fast', epochs: 4, schedule: 'linear', warmupShare: 0.25, lr: 0.4 });
    const lr = at(o, 10);
    expect(lr(0)).toBeCloseTo(0.04, 12);
    expect(lr(9)).toBeCloseTo(0.4, 12);
    expect(lr(10)).toBeCloseTo(0.4, 12);
    expect(lr(25)).toBeCloseTo(0.2, 12);
    expect(lr(40)).toBeCloseTo(0, 12);
  });
});

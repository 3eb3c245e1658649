// Flip test-time augmentation: evaluateSplit's figures against two forwards computed here (the image and
// its mirror, mirrored by index arithmetic in this file, each run through the network on its own), and
// the TTA label carried by evaluate(), the training loop and the eval command.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../lib/backend.js';
import { fromFloat32, toFloat32 } from '../../lib/tensor.js';
import { vgg } from '../../lib/models/vgg.js';
import { initialize } from '../../lib/nn/init.js';
import { splitToDevice } from '../../lib/data/device.js';
import { mirroredSplit, mirrorPixels } from '../../lib/data/mirror.js';
import { CIFAR10_MEAN, CIFAR10_STD, IMAGE_BYTES } from '../../lib/data/layout.js';
import { evaluateSplit } from '../../lib/train/evaluate.js';
import { evaluate } from '../../lib/train/evaluate-api.js';
import { runTraining } from '../../lib/train/loop.js';
import { resolveTrainOptions } from '../../lib/train/options.js';
import { runRecord } from '../../lib/train/run-file.js';
import { batchBytes, CLASSES, tempDir } from '../data/fixtures.js';
import { writeLearnableDataset } from './fixtures.js';

const N = 40;
const { images, labels } = batchBytes(N, 11);

/** Float image i, normalized, optionally mirrored (x -> 31 - x), in [3, 32, 32] order. */
function imageAt(i: number, mirror: boolean): Float32Array {
  const out = new Float32Array(IMAGE_BYTES);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const src = images[i * IMAGE_BYTES + c * 1024 + y * 32 + (mirror ? 31 - x : x)];
        out[c * 1024 + y * 32 + x] = (src / 255 - CIFAR10_MEAN[c]) / CIFAR10_STD[c];
      }
    }
  }
  return out;
}

function softmax(row: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(row));
  const e = Array.from(row, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function tinyModel() {
  const model = vgg({ depth: 11, batchNorm: true, classifier: 'linear', widthDivisor: 16 });
  initialize(model, { scheme: 'kaiming_normal', mode: 'fan_out', linearStd: 0.3, seed: 5 });
  model.build('cpu', [N, 3, 32, 32]);
  // move the BatchNorm running statistics off their initial values, so the eval-mode path is not trivial
  const all = new Float32Array(N * IMAGE_BYTES);
  for (let i = 0; i < N; i++) all.set(imageAt(i, false), i * IMAGE_BYTES);
  const x = fromFloat32('cpu', [N, 3, 32, 32], all);
  model.train();
  for (let k = 0; k < 3; k++) model.forward(x);
  x.dispose();
  model.eval();
  return model;
}

/** Logits of each image, one forward per image (batch of one). */
function logitsOf(model: ReturnType<typeof tinyModel>, mirror: boolean): number[][] {
  model.build('cpu', [1, 3, 32, 32]);
  const rows: number[][] = [];
  for (let i = 0; i < N; i++) {
    const x = fromFloat32('cpu', [1, 3, 32, 32], imageAt(i, mirror));
    rows.push(Array.from(toFloat32(model.forward(x))));
    x.dispose();
  }
  return rows;
}

const argmax = (r: number[]) => r.indexOf(Math.max(...r));

describe('flip test-time augmentation', () => {
  it('mirrorPixels reverses every row of every channel and refuses a wrong size', () => {
    const m = mirrorPixels(images, N);
    for (const [i, c, y, x] of [[0, 0, 0, 0], [3, 2, 31, 5], [N - 1, 1, 17, 31]]) {
      expect(m[i * IMAGE_BYTES + c * 1024 + y * 32 + x]).toBe(images[i * IMAGE_BYTES + c * 1024 + y * 32 + 31 - x]);
    }
    expect(mirrorPixels(m, N)).toEqual(images);
    expect(() => mirrorPixels(images, N + 1)).toThrow(/do not make 41 images/);
  });

  it('equals the mean of the softmax of two independent forwards (the image, its mirror), batched with a partial batch', () => {
    const model = tinyModel();
    const plain = logitsOf(model, false);
    const flipped = logitsOf(model, true);
    const mean = plain.map((r, i) => softmax(r).map((p, j) => (p + softmax(flipped[i])[j]) / 2));
    const wantPred = mean.map(argmax);
    const wantLoss = mean.reduce((a, p, i) => a - Math.log(p[labels[i]]), 0) / N;
    const wantAcc = wantPred.filter((p, i) => p === labels[i]).length / N;

    const data = splitToDevice({ count: N, images, labels }, 'cpu');
    const mirrored = splitToDevice(mirroredSplit({ count: N, images, labels }), 'cpu');
    const common = { batchSize: 16, normalize: true, classes: CLASSES, split: 'test' as const, labels };
    const tta = evaluateSplit(model, data, { ...common, tta: 'flip', mirrored });
    const made = evaluateSplit(model, data, { ...common, tta: 'flip' }); // mirror made inside
    const none = evaluateSplit(model, data, common);
    expect(tta.tta).toBe('flip');
    expect(Array.from(tta.predictions)).toEqual(wantPred);
    expect(tta.loss).toBeCloseTo(wantLoss, 4);
    expect(tta.accuracy).toBe(wantAcc);
    expect(tta.confusion.flat().reduce((a, b) => a + b, 0)).toBe(N);
    expect(Array.from(made.predictions)).toEqual(wantPred);
    expect(made.loss).toBe(tta.loss);
    // without TTA: the argmax of the image's own logits, and a different loss (the mirror counts)
    expect(none.tta).toBe('none');
    expect(Array.from(none.predictions)).toEqual(plain.map(argmax));
    const plainLoss = plain.reduce((a, r, i) => a - Math.log(softmax(r)[labels[i]]), 0) / N;
    expect(none.loss).toBeCloseTo(plainLoss, 4);
    expect(Math.abs(none.loss - tta.loss)).toBeGreaterThan(1e-4);
    expect(() => evaluateSplit(model, data, { ...common, tta: 'crop' as 'flip' })).toThrow(/tta must be 'none' or 'flip', got 'crop'/);
    data.dispose();
    mirrored.dispose();
    model.dispose();
  });

  it('training with tta flip labels every epoch; evaluate({ tta }) and `vgg-cifar eval --tta flip` reproduce the last figure', async () => {
    const data = writeLearnableDataset(tempDir('tta'), 64);
    const o = resolveTrainOptions({ data, out: tempDir('tta-run'), backend: 'cpu', recipe: 'fast', model: 'vgg11', widthDivisor: 16, batchSize: 32,
      epochs: 2, lr: 0.05, display: 5, report: false, tta: 'flip', padMode: 'reflect' });
    const h = await runTraining(o);
    expect(h.epochs.map((e) => e.testTta)).toEqual(['flip', 'flip']);
    const ck = join(o.out, 'cifar10_epoch_2.safetensors');
    const r = await evaluate({ checkpoint: ck, data, backend: 'cpu', tta: 'flip' });
    expect(r.tta).toBe('flip');
    expect(r.accuracy).toBe(h.epochs[1].testAccuracy);
    expect(r.loss).toBeCloseTo(h.epochs[1].testLoss!, 5);
    const plain = await evaluate({ checkpoint: ck, data, backend: 'cpu' });
    expect(plain.tta).toBe('none');

    const cli = join(packageRoot(), 'dist', 'lib', 'cli', 'main.js');
    const run = (tta: string) => spawnSync(process.execPath, [cli, 'eval', '--checkpoint', ck, '--data', data, '--backend', 'cpu', '--tta', tta], { encoding: 'utf8' });
    const flip = run('flip');
    expect(flip.status).toBe(0);
    expect(flip.stdout).toContain(`accuracy ${(100 * r.accuracy).toFixed(2)}%`);
    expect(flip.stdout).toMatch(/\(TTA flip\)/);
    expect(run('none').stdout).toMatch(/\(no TTA\)/);
    expect(run('crop').stderr).toMatch(/--tta.*crop/);

    // run.json's evaluation carries the mode
    const rec = runRecord({ out: o.out, status: 'finished', startedAt: 'now', seconds: 1, options: o, dataDir: data, classes: CLASSES,
      history: h, evaluation: { ...r, epoch: 2, labels: new Uint8Array(r.count).fill(0) } });
    expect(rec.evaluation!.tta).toBe('flip');
    expect(rec.epochs.map((e) => e.testTta)).toEqual(['flip', 'flip']);
  });
});

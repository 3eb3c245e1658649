// Models and images for the export tests, made here (no dataset, no training): VGGs with seeded
// weights whose logits are spread over several units (so a 1e-4 parity check means something),
// BatchNorm layers with non-trivial statistics, and "real-looking" pictures (gradients, shapes,
// texture) rather than white noise, and our own logits for them.
import { join } from 'node:path';
import { Rng } from '../../lib/data/rng.js';
import { CIFAR10_MEAN, CIFAR10_STD } from '../../lib/data/layout.js';
import { vgg, type Vgg, type VggOptions } from '../../lib/models/vgg.js';
import { initialize } from '../../lib/nn/init.js';
import { loadStateDict, stateDict } from '../../lib/nn/state.js';
import { saveCheckpoint } from '../../lib/nn/checkpoint.js';
import { fromFloat32, toFloat32 } from '../../lib/tensor.js';
import { packageRoot } from '../../lib/backend.js';

export const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** A VGG with seeded weights (Kaiming, non-zero biases) and, with BatchNorm, random affine parameters
 *  and running statistics; `logitScale` multiplies the last layer (peaked probabilities). */
export function fixtureModel(opts: VggOptions, seed: number, logitScale = 1): Vgg {
  const model = vgg(opts);
  initialize(model, { scheme: 'kaiming_uniform', bias: 'pytorch_default', seed });
  const rng = new Rng(seed + 1000);
  const u = (lo: number, hi: number) => lo + (hi - lo) * rng.nextFloat();
  const sd = stateDict(model);
  for (const [k, t] of sd) {
    if (t.dtype !== 'F32') continue;
    const d = t.data as Float32Array;
    if (k.endsWith('running_var')) d.forEach((_, i) => (d[i] = u(0.5, 2)));
    else if (k.endsWith('running_mean')) d.forEach((_, i) => (d[i] = u(-0.3, 0.3)));
    else if (sd.has(k.replace(/weight$/, 'running_var')) && k.endsWith('weight')) d.forEach((_, i) => (d[i] = u(0.7, 1.3)));
    else if (sd.has(k.replace(/bias$/, 'running_var')) && k.endsWith('bias')) d.forEach((_, i) => (d[i] = u(-0.2, 0.2)));
  }
  const last = model.net.layers.length - (model.config.reluOnLogits ? 2 : 1);
  for (const k of [`net.${last}.weight`, `net.${last}.bias`]) (sd.get(k)!.data as Float32Array).forEach((v, i, a) => (a[i] = v * logitScale));
  loadStateDict(model, sd);
  return model;
}

export interface FixtureExtra {
  normalize?: boolean;
  accuracy?: number;
  epoch?: number;
}

/** Saves `model` as a training checkpoint would (options.normalize, classes, the test evaluation). */
export function saveFixture(dir: string, name: string, model: Vgg, extra: FixtureExtra = {}): string {
  const path = join(dir, name);
  saveCheckpoint(path, {
    model, epoch: extra.epoch,
    extra: {
      options: { normalize: extra.normalize ?? false }, classes: CLASSES,
      ...(extra.accuracy !== undefined ? { evaluation: { split: 'test', epoch: extra.epoch ?? 1, accuracy: extra.accuracy, loss: 0.5, count: 10000 } } : {}),
    },
  });
  return path;
}

/** `n` planar RGB uint8 images [n, 3, h, w]: a sky-to-ground gradient, a few discs and boxes in their
 *  own colours, and fine texture, each drawn from `seed`. */
export function realLookingImages(n: number, h: number, w: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n * 3 * h * w);
  const colour = () => [rng.nextInt(256), rng.nextInt(256), rng.nextInt(256)];
  for (let k = 0; k < n; k++) {
    const top = colour();
    const bottom = colour();
    const horizon = 0.3 + 0.4 * rng.nextFloat();
    const shapes = Array.from({ length: 2 + rng.nextInt(3) }, () => ({
      disc: rng.nextInt(2) === 0, c: colour(), x: rng.nextFloat() * w, y: rng.nextFloat() * h, r: (0.1 + 0.25 * rng.nextFloat()) * Math.min(h, w),
    }));
    const texture = 4 + rng.nextInt(12);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const t = y / h < horizon ? (y / h) / horizon * 0.5 : 0.5 + 0.5 * (y / h - horizon) / (1 - horizon);
        let px = top.map((c, i) => c + (bottom[i] - c) * t);
        for (const s of shapes) {
          const inside = s.disc ? (x - s.x) ** 2 + (y - s.y) ** 2 < s.r ** 2 : Math.abs(x - s.x) < s.r && Math.abs(y - s.y) < 0.6 * s.r;
          if (inside) px = s.c.map((c) => c * (0.85 + 0.15 * Math.sin((x + y) / 3)));
        }
        for (let c = 0; c < 3; c++) {
          const v = px[c] + texture * Math.sin(x * 1.7 + y * 0.9 + c) + (rng.nextFloat() - 0.5) * texture;
          out[((k * 3 + c) * h + y) * w + x] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
  }
  return out;
}

/** Pixels / 255, and optionally CIFAR-10-normalized per channel, as float32 [n, 3, h, w]. */
export function toInput(pixels: Uint8Array, h: number, w: number, normalize: boolean): Float32Array {
  const plane = h * w;
  return Float32Array.from(pixels, (v, i) => {
    const c = Math.floor(i / plane) % 3;
    return normalize ? (v / 255 - CIFAR10_MEAN[c]) / CIFAR10_STD[c] : v / 255;
  });
}

/** vgg-cifar's logits for a float32 batch (eval mode, CPU). */
export function ourLogits(model: Vgg, x: Float32Array, n: number): Float32Array {
  const [h, w] = model.config.inputSize;
  model.eval();
  model.build('cpu', [n, model.config.inChannels, h, w]);
  const input = fromFloat32('cpu', [n, model.config.inChannels, h, w], x);
  try {
    return toFloat32(model.forward(input)).slice();
  } finally {
    input.dispose();
  }
}

/** Largest |a - b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The built CLI (the tests' global setup compiles dist/). */
export const CLI = join(packageRoot(), 'dist', 'lib', 'cli', 'main.js');

// Flip test-time augmentation: each image and its left-right mirror go through the network, and the
// prediction is the MEAN OF THE TWO SOFTMAX DISTRIBUTIONS (its argmax the class, -log of its probability
// of the label the loss). Averaging probabilities keeps the result a distribution, so the loss stays a
// cross-entropy comparable with the plain one. PyTorch fast-training code often sums logits instead
// (bench/pytorch's anchor did; David Page's "How to train your ResNet" too): the argmax differs only
// where the two views disagree with near-equal confidence. bench/pytorch/recipe.py averages
// probabilities, as here, so both sides of bench/time-to-accuracy measure the same thing.
import { native } from '../backend.js';
import { empty, type Tensor } from '../tensor.js';
import type { Module } from '../nn/module.js';
import { BatchLoader } from '../data/batches.js';
import { splitToDevice, type DeviceSplit } from '../data/device.js';
import { mirrorPixels } from '../data/mirror.js';
import { StepGraphs, type GraphSetting } from '../step-graphs.js';

export const TTA_MODES = ['none', 'flip'] as const;
export type TtaMode = (typeof TTA_MODES)[number];

/** "test accuracy 91.20% (TTA flip)" style suffixes: every printed figure says how it was measured. */
export function ttaLabel(tta: TtaMode | undefined): string {
  return tta === 'flip' ? 'TTA flip' : 'no TTA';
}

/** Uploads the mirror of a device split (a copy of its pixels through the host). */
function mirrorOnDevice(data: DeviceSplit): DeviceSplit {
  const pixels = native.toArray(data.images) as Uint8Array;
  const labels = native.toArray(data.labels) as Uint8Array;
  return splitToDevice({ count: data.count, images: mirrorPixels(pixels, data.count), labels }, data.device);
}

/** Predictions and mean cross-entropy of the mean softmax of every image and its mirror. */
export function flipTtaPredictions(model: Module, data: DeviceSplit,
  o: { batchSize: number; normalize: boolean; labels: Uint8Array; mirrored?: DeviceSplit; graphs?: GraphSetting; onNotice?: (message: string) => void }):
  { predictions: Int32Array; loss: number } {
  const n = data.images.shape[0];
  const mirrored = o.mirrored ?? mirrorOnDevice(data);
  if (mirrored.images.shape[0] !== n || mirrored.device !== data.device) {
    throw new RangeError(`evaluateSplit: the mirrored split holds ${mirrored.images.shape[0]} images on ${mirrored.device}, expected ${n} on ${data.device}`);
  }
  const batchSize = Math.min(o.batchSize, n);
  const plain = new BatchLoader(data, { batchSize, shuffle: false, normalize: o.normalize });
  const flipped = new BatchLoader(mirrored, { batchSize, shuffle: false, normalize: o.normalize });
  const probs = new Map<number, [Tensor, Tensor]>();
  const predictions = new Int32Array(n);
  // One graph per batch size for this evaluation (its loaders' tensors are its own).
  const graphs = new StepGraphs({ device: data.device, graphs: o.graphs, onNotice: o.onNotice });
  let nll = 0;
  try {
    for (let step = 0, offset = 0; step < plain.batchesPerEpoch; step++) {
      const pa = plain.prepare(0, step);
      const pf = flipped.prepare(0, step);
      model.build(data.device, [pa.size, 3, 32, 32]);
      let pair = probs.get(pa.size);
      if (!pair) {
        const k = model.outputShape([pa.size, 3, 32, 32])[1];
        probs.set(pa.size, (pair = [empty(data.device, [pa.size, k], 'float32'), empty(data.device, [pa.size, k], 'float32')]));
      }
      const [sa, sb] = pair;
      graphs.run(`flip evaluation batch ${pa.size}`, () => {
        native.softmax(model.forward(plain.launch(pa).images), sa); // before the next forward reuses the logits' buffer
        native.softmax(model.forward(flipped.launch(pf).images), sb);
        native.axpby(sb, sa, 0.5, 0.5);
      });
      const p = native.toArray(sa) as Float32Array;
      const k = sa.shape[1];
      for (let i = 0; i < pa.size; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
        predictions[offset + i] = best;
        nll -= Math.log(Math.max(p[i * k + o.labels[offset + i]], Number.MIN_VALUE));
      }
      offset += pa.size;
    }
    return { predictions, loss: nll / n };
  } finally {
    graphs.dispose();
    plain.dispose();
    flipped.dispose();
    for (const [a, b] of probs.values()) { a.dispose(); b.dispose(); }
    if (!o.mirrored) mirrored.dispose();
  }
}

// Feature maps as data: one image through the network layer by layer (eval mode, batch 1), each
// layer's output read back to the host, a seeded random choice of channels kept per layer.
import { toFloat32 } from '../tensor.js';
import { Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { ReLU, Dropout, Flatten } from '../nn/activation.js';
import { MaxPool2d } from '../nn/pool.js';
import type { Module } from '../nn/module.js';
import { deriveSeed, permutation } from '../data/rng.js';
import { softmaxRows, withInputs, type LoadedModel } from './model.js';

export interface LayerMaps {
  /** Position in model.net, and its state-dict prefix (net.N). */
  index: number;
  name: string;
  /** e.g. 'Conv2d 3→8 3x3 + ReLU', 'MaxPool2d 2x2', 'Linear 64→100 + ReLU'. */
  label: string;
  /** Output shape at batch 1. */
  shape: number[];
  /** 4-D outputs: the chosen channels (ascending) and their maps (height*width floats, row-major). */
  channels?: number[];
  maps?: Float32Array[];
  /** 2-D outputs (the classifier): every value of the vector. */
  values?: Float32Array;
}

export interface FeatureMaps {
  /** The input's pixels, planar RGB [3,32,32]. */
  input: Uint8Array;
  layers: LayerMaps[];
  classes: string[];
  /** Softmax of the logits (the last layer). */
  probabilities: number[];
  predicted: number;
  channelsPerLayer: number;
  seed: number;
}

export interface FeatureMapOptions {
  /** Channels drawn per layer (default 10). */
  channels?: number;
  /** Seed of the channel choice (default 0). */
  seed?: number;
}

function describe(layers: Module[], i: number): string | null {
  const l = layers[i];
  const relu = layers[i + 1] instanceof ReLU && (layers[i + 1] as ReLU).fused ? ' + ReLU' : '';
  if (l instanceof ReLU) return l.fused ? null : 'ReLU';
  // Identity in eval mode, and Flatten repeats the last pool's values.
  if (l instanceof Dropout || l instanceof Flatten) return null;
  if (l instanceof Conv2d) return `Conv2d ${l.inChannels}→${l.outChannels} ${l.kernelSize}x${l.kernelSize}${relu}`;
  if (l instanceof Linear) return `Linear ${l.inFeatures}→${l.outFeatures}${relu}`;
  if (l instanceof MaxPool2d) return `MaxPool2d ${l.kernelSize}x${l.kernelSize}`;
  return l.typeName;
}

/** Runs `pixels` (planar RGB uint8 [3,32,32], a CIFAR record's layout) through `m` and returns every
 *  layer's output (fused ReLUs are reported with their conv/linear, whose output they are). */
export function featureMaps(m: LoadedModel, pixels: Uint8Array, o: FeatureMapOptions = {}): FeatureMaps {
  const k = o.channels ?? 10;
  const seed = o.seed ?? 0;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`featureMaps: channels must be a positive integer, got ${k}`);
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`featureMaps: seed must be a non-negative integer, got ${seed}`);
  if (pixels.length !== 3072) throw new RangeError(`featureMaps: the image must be 3x32x32 = 3072 bytes, got ${pixels.length}`);
  const layers = m.model.net.layers;
  const [result] = withInputs(m, pixels, 1, 1, (x) => {
    const outs = m.model.forwardAll(x);
    const found: LayerMaps[] = [];
    outs.forEach((t, i) => {
      const label = describe(layers, i);
      if (!label) return;
      const data = toFloat32(t);
      const shape = [...t.shape];
      const entry: LayerMaps = { index: i, name: `net.${i}`, label, shape };
      if (shape.length === 4) {
        const [, c, h, w] = shape;
        const chosen = Array.from(permutation(c, deriveSeed(seed, i)).subarray(0, Math.min(k, c))).sort((a, b) => a - b);
        entry.channels = chosen;
        entry.maps = chosen.map((ch) => data.slice(ch * h * w, (ch + 1) * h * w));
      } else {
        entry.values = Float32Array.from(data);
      }
      found.push(entry);
    });
    const logits = toFloat32(outs.at(-1)!);
    return { found, probs: softmaxRows(logits, 1, logits.length)[0] };
  });
  const probabilities = Array.from(result.probs);
  const predicted = probabilities.indexOf(Math.max(...probabilities));
  return { input: pixels.slice(), layers: result.found, classes: m.classes, probabilities, predicted, channelsPerLayer: k, seed };
}

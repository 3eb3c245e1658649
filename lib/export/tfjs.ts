// The inference graph as a TensorFlow.js layers model (model.json + binary weight shards, the format
// tf.loadLayersModel reads). TF.js is NHWC: convolution kernels go from PyTorch's OIHW to HWIO, and
// the first Linear after Flatten gets its columns reordered from channel-major (C, H, W) to (H, W, C)
// so that the Dense layer sees the same features. Dropout stays (an identity at inference, and the
// model remains trainable in TF.js); BatchNorm keeps its running statistics (or is folded).
import type { Op, InferenceGraph } from './graph.js';
import { inputContract, type ExportInfo } from './source.js';

/** Shard size of the TF.js converter: browsers cache files of this size well. */
const SHARD_BYTES = 4 * 1024 * 1024;

/** A weight in TF.js layout: `data` as is, or a function writing it converted into its slice of the shards. */
type Data = Float32Array | ((dst: Float32Array) => void);
interface Weight { name: string; shape: number[]; data: Data }
interface KerasLayer { class_name: string; config: Record<string, unknown> }

export interface TfjsFiles {
  modelJson: string;
  shards: Array<{ name: string; bytes: Uint8Array }>;
}

export function tfjsFiles(graph: InferenceGraph, info: ExportInfo): TfjsFiles {
  const [c, h, w] = graph.input;
  const layers: KerasLayer[] = [{ class_name: 'InputLayer', config: { name: 'input', batch_input_shape: [null, h, w, c], dtype: 'float32', sparse: false } }];
  const weights: Weight[] = [];
  const add = (class_name: string, name: string, config: Record<string, unknown>, ws: Array<[string, number[], Data]> = []) => {
    layers.push({ class_name, config: { name, trainable: true, dtype: 'float32', ...config } });
    for (const [k, shape, data] of ws) weights.push({ name: `${name}/${k}`, shape, data });
  };
  const n = info.normalization;
  if (n && info.normalizationInModel) {
    // (x - mean) / std per channel: a frozen BatchNormalization holding the CIFAR-10 statistics.
    add('BatchNormalization', 'normalize', { axis: -1, epsilon: 0, center: false, scale: false, momentum: 0.99, trainable: false },
      [['moving_mean', [3], Float32Array.from(n.mean)], ['moving_variance', [3], Float32Array.from(n.std, (s) => s * s)]]);
  }
  let flattened: number[] | null = null;
  for (const op of graph.ops) {
    kerasLayer(op, add, flattened);
    if (op.kind === 'flatten') flattened = op.input;
    else if (op.kind === 'linear') flattened = null;
  }

  // One buffer for all shards, each weight written (converted) straight into its place.
  const floats = weights.reduce((a, wt) => a + wt.shape.reduce((x, y) => x * y, 1), 0);
  const values = new Float32Array(floats);
  let at = 0;
  for (const wt of weights) {
    const dst = values.subarray(at, at + wt.shape.reduce((x, y) => x * y, 1));
    if (typeof wt.data === 'function') wt.data(dst);
    else dst.set(wt.data);
    at += dst.length;
  }
  const all = new Uint8Array(values.buffer);
  const total = all.length;
  const count = Math.max(1, Math.ceil(total / SHARD_BYTES));
  const shards = Array.from({ length: count }, (_, i) => ({
    name: `group1-shard${i + 1}of${count}.bin`, bytes: all.subarray(i * SHARD_BYTES, Math.min(total, (i + 1) * SHARD_BYTES)),
  }));
  const model = {
    format: 'layers-model',
    generatedBy: info.generator,
    convertedBy: null,
    modelTopology: { class_name: 'Sequential', config: { name: info.name, layers }, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' },
    weightsManifest: [{ paths: shards.map((s) => s.name), weights: weights.map((wt) => ({ name: wt.name, shape: wt.shape, dtype: 'float32' })) }],
    userDefinedMetadata: {
      description: info.description, input: inputContract(info, 'NHWC'), classes: info.classes, architecture: info.config,
      normalization: info.normalization ? { ...info.normalization, in_model: info.normalizationInModel } : null, bn_folded: info.foldedBn,
      epoch: info.epoch, test_accuracy: info.evaluation, source: info.source,
    },
  };
  return { modelJson: JSON.stringify(model, null, 1), shards };
}

/** TF.js builds every layer with its initializers before loading the weights over them: zeros cost
 *  nothing, where the default Glorot draws would take seconds for VGG16 (they are never used). */
const ZEROS = { kernel_initializer: { class_name: 'Zeros', config: {} }, bias_initializer: { class_name: 'Zeros', config: {} } };

type Add = (cls: string, name: string, config: Record<string, unknown>, ws?: Array<[string, number[], Data]>) => void;

/** `flattened`: the [C, H, W] that a Flatten just before this op flattened (null otherwise). */
function kerasLayer(op: Op, add: Add, flattened: number[] | null): void {
  switch (op.kind) {
    case 'conv': {
      const same = op.stride === 1 && 2 * op.padding === op.kernel - 1;
      if (!same && op.padding !== 0) throw new Error(`export: ${op.name}: padding ${op.padding} with kernel ${op.kernel} has no TF.js Conv2D form`);
      add('Conv2D', op.name, { filters: op.outChannels, kernel_size: [op.kernel, op.kernel], strides: [op.stride, op.stride],
        padding: same ? 'same' : 'valid', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: true, ...ZEROS },
      [['kernel', [op.kernel, op.kernel, op.inChannels, op.outChannels], (dst) => oihwToHwio(op.weight, dst, op.outChannels, op.inChannels, op.kernel)],
        ['bias', [op.outChannels], op.bias]]);
      return;
    }
    case 'batchnorm': {
      const c = [op.gamma.length];
      add('BatchNormalization', op.name, { axis: -1, epsilon: op.eps, momentum: 1 - op.momentum, center: true, scale: true },
        [['gamma', c, op.gamma], ['beta', c, op.beta], ['moving_mean', c, op.mean], ['moving_variance', c, op.variance]]);
      return;
    }
    case 'relu': return add('Activation', op.name, { activation: 'relu' });
    case 'maxpool':
      if (op.padding !== 0) throw new Error(`export: ${op.name}: MaxPool padding ${op.padding} has no TF.js MaxPooling2D form`);
      return add('MaxPooling2D', op.name, { pool_size: [op.kernel, op.kernel], strides: [op.stride, op.stride], padding: 'valid', data_format: 'channels_last' });
    case 'flatten': return add('Flatten', op.name, { data_format: 'channels_last' });
    case 'linear': return add('Dense', op.name, { units: op.outFeatures, activation: 'linear', use_bias: true, ...ZEROS },
      [['kernel', [op.inFeatures, op.outFeatures], (dst) => denseKernel(op.weight, dst, op.outFeatures, op.inFeatures, flattened)], ['bias', [op.outFeatures], op.bias]]);
    case 'dropout': return add('Dropout', op.name, { rate: op.p });
  }
}

/** [out, in, k, k] -> [k, k, in, out], 16 output channels at a time: every write fills a cache line
 *  and the 16 rows read stay in cache (a plain loop over VGG16's 14.7M weights thrashes it). */
function oihwToHwio(w: Float32Array, out: Float32Array, o: number, i: number, k: number): void {
  const kk = k * k;
  for (let a0 = 0; a0 < o; a0 += 16) {
    const a1 = Math.min(o, a0 + 16);
    for (let b = 0; b < i; b++) {
      for (let yx = 0; yx < kk; yx++) {
        const dst = (yx * i + b) * o;
        for (let a = a0; a < a1; a++) out[dst + a] = w[(a * i + b) * kk + yx];
      }
    }
  }
}

/** [out, in] -> [in, out]; after a Flatten, row (h, w, c) of the result is PyTorch's column (c, h, w). */
function denseKernel(wt: Float32Array, k: Float32Array, out: number, inF: number, flattened: number[] | null): void {
  const [c, h, w] = flattened ?? [inF, 1, 1];
  for (let ci = 0; ci < c; ci++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const torchCol = (ci * h + y) * w + x;
    const tfRow = (y * w + x) * c + ci;
    for (let o = 0; o < out; o++) k[tfRow * out + o] = wt[o * inF + torchCol];
  }
}

// The network as every export format sees it: a chain of inference ops with their weights on the host
// (float32, PyTorch layouts: OIHW kernels, [out, in] matrices, channel-major flatten), each with its
// output shape. BatchNorm can be folded into the convolution before it here, once for all formats.
import type { Vgg } from '../models/vgg.js';
import { Conv2d } from '../nn/conv.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { Dropout, Flatten, ReLU } from '../nn/activation.js';
import { MaxPool2d } from '../nn/pool.js';
import { Linear } from '../nn/linear.js';
import { stateDict, type StateDict } from '../nn/state.js';

interface OpBase {
  /** The layer's state-dict prefix (`net.0`); a folded conv is named after the conv. */
  name: string;
  /** Output shape without the batch: [C, H, W] or [features]. */
  shape: number[];
}
export interface ConvOp extends OpBase {
  kind: 'conv';
  /** [out, in, k, k] */
  weight: Float32Array;
  bias: Float32Array;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
  /** The BatchNorm folded into this convolution (its name), if any. */
  foldedBn: string | null;
}
export interface BatchNormOp extends OpBase {
  kind: 'batchnorm';
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  eps: number;
  /** PyTorch's momentum (weight of the new batch); Keras counts the other way. */
  momentum: number;
}
export interface ReluOp extends OpBase { kind: 'relu' }
export interface MaxPoolOp extends OpBase { kind: 'maxpool'; kernel: number; stride: number; padding: number }
export interface FlattenOp extends OpBase {
  kind: 'flatten';
  /** [C, H, W] before flattening (the order the next Linear's columns follow). */
  input: number[];
}
export interface LinearOp extends OpBase {
  kind: 'linear';
  /** [out, in] */
  weight: Float32Array;
  bias: Float32Array;
  inFeatures: number;
  outFeatures: number;
}
export interface DropoutOp extends OpBase { kind: 'dropout'; p: number }
export type Op = ConvOp | BatchNormOp | ReluOp | MaxPoolOp | FlattenOp | LinearOp | DropoutOp;

export interface InferenceGraph {
  /** [C, H, W] */
  input: number[];
  ops: Op[];
  foldedBn: boolean;
}

/** The model's layers (eval semantics) with its weights: `weights` (the state dict it was loaded
 *  from, already checked against it) or else a copy read from the model. */
export function inferenceGraph(model: Vgg, opts: { foldBn?: boolean; weights?: StateDict | null } = {}): InferenceGraph {
  const sd = opts.weights ?? stateDict(model);
  const input = [model.config.inChannels, ...model.config.inputSize];
  let shape = input;
  const ops: Op[] = [];
  model.net.layers.forEach((layer, i) => {
    const name = `net.${i}`;
    const before = shape;
    shape = layer.outputShape([1, ...shape]).slice(1);
    if (layer instanceof Conv2d) {
      ops.push({ kind: 'conv', name, shape, weight: f32(sd, `${name}.weight`), bias: layer.bias ? f32(sd, `${name}.bias`) : new Float32Array(layer.outChannels),
        inChannels: layer.inChannels, outChannels: layer.outChannels, kernel: layer.kernelSize, stride: layer.stride, padding: layer.padding, foldedBn: null });
    } else if (layer instanceof BatchNorm2d) {
      ops.push({ kind: 'batchnorm', name, shape, gamma: f32(sd, `${name}.weight`), beta: f32(sd, `${name}.bias`), mean: f32(sd, `${name}.running_mean`),
        variance: f32(sd, `${name}.running_var`), eps: layer.eps, momentum: layer.momentum });
    } else if (layer instanceof ReLU) ops.push({ kind: 'relu', name, shape });
    else if (layer instanceof MaxPool2d) ops.push({ kind: 'maxpool', name, shape, kernel: layer.kernelSize, stride: layer.stride, padding: layer.padding });
    else if (layer instanceof Flatten) ops.push({ kind: 'flatten', name, shape, input: before });
    else if (layer instanceof Linear) {
      ops.push({ kind: 'linear', name, shape, weight: f32(sd, `${name}.weight`), bias: layer.bias ? f32(sd, `${name}.bias`) : new Float32Array(layer.outFeatures),
        inFeatures: layer.inFeatures, outFeatures: layer.outFeatures });
    } else if (layer instanceof Dropout) ops.push({ kind: 'dropout', name, shape, p: layer.p });
    else throw new Error(`export: layer ${name} (${layer.typeName}) has no exported form`);
  });
  return { input, ops: opts.foldBn ? foldBatchNorm(ops) : ops, foldedBn: !!opts.foldBn };
}

function f32(sd: StateDict, key: string): Float32Array {
  const t = sd.get(key);
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`export: the model has no float32 tensor '${key}'`);
  return t.data;
}

/** Every Conv -> BatchNorm pair as one convolution computing the BatchNorm's inference form:
 *  w' = w * g / sqrt(v + eps), b' = (b - m) * g / sqrt(v + eps) + beta (in float64, then rounded). */
export function foldBatchNorm(ops: Op[]): Op[] {
  const out: Op[] = [];
  for (const op of ops) {
    const prev = out.at(-1);
    if (op.kind !== 'batchnorm' || prev?.kind !== 'conv' || prev.foldedBn) {
      out.push(op);
      continue;
    }
    const per = prev.weight.length / prev.outChannels;
    const weight = new Float32Array(prev.weight.length);
    const bias = new Float32Array(prev.outChannels);
    for (let o = 0; o < prev.outChannels; o++) {
      const s = op.gamma[o] / Math.sqrt(op.variance[o] + op.eps);
      for (let k = o * per; k < (o + 1) * per; k++) weight[k] = prev.weight[k] * s;
      bias[o] = (prev.bias[o] - op.mean[o]) * s + op.beta[o];
    }
    out[out.length - 1] = { ...prev, weight, bias, foldedBn: op.name, shape: op.shape };
  }
  return out;
}

// The VGG family (Simonyan & Zisserman, configurations A/B/D/E = VGG11/13/16/19) for small images.
// vgg16() with the default options is the study report's CIFAR-10 network (../shared/reference/):
// 13 conv3x3 + ReLU, five 2x2 max-pools, Flatten, Linear(512,100), ReLU, Linear(100,100), ReLU,
// Linear(100,10): 14,777,098 parameters, state-dict names net.0.weight … net.36.bias. The report also
// put a ReLU after the last Linear, which clamps the logits at 0: a network whose logits are all 0
// predicts the uniform distribution, loss ln 10 = 2.3026, and gets no gradient through the dead units;
// that is one reason its Adam run stalled at 2.3026. We leave it out; `reluOnLogits: true` puts it
// back to reproduce the report (its summary then has the report's 38 rows).
import type { Device, Layout } from '../backend.js';
import type { Tensor } from '../tensor.js';
import { Module } from '../nn/module.js';
import { CastBoundary } from '../nn/precision.js';
import { Sequential } from '../nn/sequential.js';
import { Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { Dropout, Flatten, ReLU } from '../nn/activation.js';
import { MaxPool2d } from '../nn/pool.js';

export type VggDepth = 11 | 13 | 16 | 19;
/** 'report': F-100-100-classes (the study report); 'standard': F-512-512-classes with ReLU and dropout
 *  (torchvision's layout at CIFAR width); 'linear': one Linear F-classes. */
export type ClassifierKind = 'report' | 'standard' | 'linear';

export interface VggConfig {
  arch: 'vgg';
  depth: VggDepth;
  batchNorm: boolean;
  classifier: ClassifierKind;
  /** [height, width] of the input images; both must be multiples of 32 (five 2x2 pools). */
  inputSize: [number, number];
  inChannels: number;
  numClasses: number;
  /** The report's ReLU after the last Linear (clamps logits at 0; off by default). */
  reluOnLogits: boolean;
  /** Hidden width of the classifier (100 for 'report', 512 for 'standard' unless given). */
  hidden: number;
  /** Dropout probability of the 'standard' classifier. */
  dropout: number;
  /** Divides every conv width (tests build tiny VGGs with 8). */
  widthDivisor: number;
}

export type VggOptions = Partial<Omit<VggConfig, 'arch' | 'depth'>> & { depth?: VggDepth };

const M = 'M' as const;
export const VGG_LAYERS: Record<VggDepth, Array<number | 'M'>> = {
  11: [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
  13: [64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
  16: [64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M],
  19: [64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M],
};

/** Fills in defaults and validates; the result is plain JSON (stored in checkpoints). */
export function vggConfig(opts: VggOptions = {}): VggConfig {
  const depth = opts.depth ?? 16;
  if (!(depth in VGG_LAYERS)) throw new RangeError(`vgg: depth must be 11, 13, 16 or 19, got ${String(depth)}`);
  const classifier = opts.classifier ?? 'report';
  if (!['report', 'standard', 'linear'].includes(classifier)) {
    throw new RangeError(`vgg: classifier must be 'report', 'standard' or 'linear', got '${String(classifier)}'`);
  }
  const inputSize = opts.inputSize ?? [32, 32];
  if (inputSize.length !== 2 || inputSize.some((s) => !Number.isInteger(s) || s < 32 || s % 32 !== 0)) {
    throw new RangeError(`vgg: inputSize must be [h, w] with multiples of 32 (five 2x2 max-pools), got [${inputSize.join(', ')}]`);
  }
  const cfg: VggConfig = {
    arch: 'vgg',
    depth,
    batchNorm: opts.batchNorm ?? false,
    classifier,
    inputSize: [inputSize[0], inputSize[1]],
    inChannels: opts.inChannels ?? 3,
    numClasses: opts.numClasses ?? 10,
    reluOnLogits: opts.reluOnLogits ?? false,
    hidden: opts.hidden ?? (classifier === 'standard' ? 512 : 100),
    dropout: opts.dropout ?? 0.5,
    widthDivisor: opts.widthDivisor ?? 1,
  };
  for (const k of ['inChannels', 'numClasses', 'hidden', 'widthDivisor'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new RangeError(`vgg: ${k} must be a positive integer, got ${cfg[k]}`);
  }
  if (64 % cfg.widthDivisor !== 0) throw new RangeError(`vgg: widthDivisor must divide 64, got ${cfg.widthDivisor}`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new RangeError(`vgg: dropout must be in [0, 1), got ${cfg.dropout}`);
  return cfg;
}

/** A VGG network: `net` is the one Sequential, so parameter names match the report's VGG16 class. */
export class Vgg extends Module {
  readonly config: VggConfig;
  readonly net: Sequential;
  /** Under bf16 (setPrecision): fp32 images in, fp32 logits out, bf16 in between. */
  private readonly boundary = new CastBoundary();

  constructor(opts: VggOptions = {}) {
    super();
    this.config = vggConfig(opts);
    this.net = new Sequential(vggLayers(this.config));
    this.needsInputGrad = false;
  }

  get typeName(): string {
    return `VGG${this.config.depth}`;
  }

  children(): Array<[string, Module]> {
    return [['net', this.net]];
  }

  outputShape(s: readonly number[]): number[] {
    return this.net.outputShape(s);
  }

  build(device: Device, inputShape: readonly number[], inputLayout?: Layout): number[] {
    this.device = device;
    this.net.needsInputGrad = this.needsInputGrad;
    if (this.dtype === 'float32') {
      const out = this.net.build(device, inputShape, inputLayout);
      this.outputLayout = this.net.outputLayout;
      return out;
    }
    const out = this.net.build(device, inputShape, 'plain');
    this.boundary.build(device, this.dtype, inputShape, out, this.needsInputGrad);
    this.outputLayout = 'plain';
    return out;
  }

  /** Logits (float32) for a float32 batch, whatever the precision. */
  forward(x: Tensor): Tensor {
    if (this.dtype === 'float32') return this.net.forward(x);
    return this.boundary.output(this.net.forward(this.boundary.input(x)));
  }

  backward(dy: Tensor): Tensor | null {
    if (this.dtype === 'float32') return this.net.backward(dy);
    return this.boundary.gradInput(this.net.backward(this.boundary.gradOutput(dy)));
  }

  /** Every layer's output for a float32 batch (in the precision's dtype: read them with toFloat32). */
  forwardAll(x: Tensor): Tensor[] {
    return this.net.forwardAll(this.dtype === 'float32' ? x : this.boundary.input(x));
  }

  protected releaseBuilds(): void {
    this.boundary.clear();
  }
}

export function vggLayers(cfg: VggConfig): Module[] {
  const layers: Module[] = [];
  let c = cfg.inChannels;
  for (const v of VGG_LAYERS[cfg.depth]) {
    if (v === 'M') {
      layers.push(new MaxPool2d(2, 2));
      continue;
    }
    const w = v / cfg.widthDivisor;
    layers.push(new Conv2d(c, w, 3, { padding: 1 }));
    if (cfg.batchNorm) layers.push(new BatchNorm2d(w));
    layers.push(new ReLU());
    c = w;
  }
  layers.push(new Flatten());
  const features = c * (cfg.inputSize[0] / 32) * (cfg.inputSize[1] / 32);
  const h = cfg.hidden;
  if (cfg.classifier === 'report') {
    layers.push(new Linear(features, h), new ReLU(), new Linear(h, h), new ReLU(), new Linear(h, cfg.numClasses));
  } else if (cfg.classifier === 'standard') {
    layers.push(new Linear(features, h), new ReLU(), new Dropout(cfg.dropout), new Linear(h, h), new ReLU(),
      new Dropout(cfg.dropout), new Linear(h, cfg.numClasses));
  } else {
    layers.push(new Linear(features, cfg.numClasses));
  }
  if (cfg.reluOnLogits) layers.push(new ReLU());
  return layers;
}

export function vgg(opts: VggOptions = {}): Vgg {
  return new Vgg(opts);
}
export const vgg11 = (opts: Omit<VggOptions, 'depth'> = {}): Vgg => new Vgg({ ...opts, depth: 11 });
export const vgg13 = (opts: Omit<VggOptions, 'depth'> = {}): Vgg => new Vgg({ ...opts, depth: 13 });
export const vgg16 = (opts: Omit<VggOptions, 'depth'> = {}): Vgg => new Vgg({ ...opts, depth: 16 });
export const vgg19 = (opts: Omit<VggOptions, 'depth'> = {}): Vgg => new Vgg({ ...opts, depth: 19 });

/** Builds the model a checkpoint's config describes. */
export function modelFromConfig(config: VggConfig): Vgg {
  if (config?.arch !== 'vgg') throw new RangeError(`modelFromConfig: unknown arch '${String(config?.arch)}'`);
  return new Vgg(config);
}

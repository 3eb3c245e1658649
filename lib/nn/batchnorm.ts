// BatchNorm2d over the channels of NCHW: batch statistics in training (updating the running ones with
// PyTorch's momentum convention), running statistics in eval.
import { native, type Device, type Layout } from '../backend.js';
import type { Tensor } from '../tensor.js';
import { activationLayout, BuildCache, checkInput, Module, shapeKey, type BufferEntry, type Param } from './module.js';

interface BnBuild {
  xShape: number[];
  xLayout: Layout;
  y: Tensor;
  dx: Tensor;
  tensors: Array<Tensor | null>;
}

export class BatchNorm2d extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  readonly weight: Param;
  readonly bias: Param;
  readonly runningMean: BufferEntry;
  readonly runningVar: BufferEntry;
  /** PyTorch's num_batches_tracked (an int64 buffer there): kept on the host, saved in state dicts. */
  numBatchesTracked = 0;
  /** The next forward was prepared (prepareStep counted it). */
  private prepared = false;
  private lastPrepared = false;
  /** Set by Sequential when a ReLU follows: y is written rectified, and the backward masks dy by y itself
   *  (the ReLU's backward then does nothing): one pass fewer over memory each way. */
  fuseRelu = false;
  private saveMean: Tensor | null = null;
  private saveInvStd: Tensor | null = null;
  private readonly cache = new BuildCache<BnBuild>();
  private lastX: Tensor | null = null;

  constructor(numFeatures: number, opts: { eps?: number; momentum?: number } = {}) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new RangeError(`BatchNorm2d: num_features must be a positive integer, got ${numFeatures}`);
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    this.weight = this.addParam('weight', [numFeatures], false);
    this.bias = this.addParam('bias', [numFeatures], false);
    native.fill(this.weight.value, 1);
    this.runningMean = this.addBuffer('running_mean', [numFeatures], 0);
    this.runningVar = this.addBuffer('running_var', [numFeatures], 1);
  }

  outputShape(s: readonly number[]): number[] {
    if (s.length !== 4 || s[1] !== this.numFeatures) {
      throw new RangeError(`BatchNorm2d(${this.numFeatures}): expected input [N, ${this.numFeatures}, H, W], got [${s.join(', ')}]`);
    }
    return [...s];
  }

  build(device: Device, inputShape: readonly number[], inputLayout?: Layout): number[] {
    this.to(device);
    this.outputShape(inputShape);
    const xLayout = inputLayout ?? activationLayout(device, inputShape, this.dtype);
    if (!this.saveMean) {
      this.saveMean = native.empty(device, [this.numFeatures], 'float32');
      this.saveInvStd = native.empty(device, [this.numFeatures], 'float32');
    }
    this.cache.select(shapeKey(inputShape, xLayout), () => {
      const y = native.empty(device, inputShape, this.dtype, xLayout);
      const dx = native.empty(device, inputShape, this.dtype, xLayout);
      return { xShape: [...inputShape], xLayout, y, dx, tensors: [y, dx] };
    });
    this.outputLayout = xLayout;
    return [...inputShape];
  }

  forward(x: Tensor): Tensor {
    const e = this.cache.current;
    checkInput('BatchNorm2d', x, e && { shape: e.xShape, layout: e.xLayout });
    native.batchNorm2dForward(x, this.weight.value, this.bias.value, this.runningMean.value, this.runningVar.value,
      e!.y, this.saveMean!, this.saveInvStd!, { training: this.training, momentum: this.momentum, eps: this.eps, relu: this.fuseRelu });
    if (this.training && !this.prepared) this.numBatchesTracked++;
    this.prepared = false;
    this.lastX = x;
    return e!.y;
  }

  /** Counts the next training forward's batch ahead (the running statistics are updated on the device). */
  prepareStep(): void {
    if (!this.training) return;
    this.numBatchesTracked++;
    this.prepared = this.lastPrepared = true;
  }

  rearmStep(): void {
    this.prepared = this.lastPrepared;
  }

  backward(dy: Tensor): Tensor | null {
    const e = this.cache.current;
    if (!e || !this.lastX) throw new Error('BatchNorm2d.backward: call forward first');
    native.batchNorm2dBackward(this.lastX, dy, this.weight.value, this.saveMean!, this.saveInvStd!, e.dx,
      this.weight.grad, this.bias.grad, this.eps, this.fuseRelu ? e.y : null);
    return this.needsInputGrad ? e.dx : null;
  }

  protected releaseBuilds(): void {
    this.cache.clear();
    this.saveMean?.dispose();
    this.saveInvStd?.dispose();
    this.saveMean = this.saveInvStd = null;
    this.lastX = null;
  }
}

// Conv2d (NCHW input, OIHW weight) on the native conv ops; a following ReLU is fused into the forward
// when Sequential sees the pair (the ReLU's backward then reads this layer's rectified output).
import { native, type Device, type Layout } from '../backend.js';
import type { ConvParams } from '../../binding.js';
import type { Tensor } from '../tensor.js';
import { activationLayout, BuildCache, checkInput, Module, shapeKey, type Param } from './module.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  bias?: boolean;
}

interface ConvBuild {
  xShape: number[];
  xLayout: Layout;
  y: Tensor;
  dx: Tensor | null;
  tensors: Array<Tensor | null>;
}

export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly weight: Param;
  readonly bias: Param | null;
  readonly convParams: ConvParams;
  /** Set by Sequential when a ReLU follows: the forward writes max(conv, 0). */
  fuseRelu = false;
  private readonly cache = new BuildCache<ConvBuild>();
  private lastX: Tensor | null = null;

  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: Conv2dOptions = {}) {
    super();
    for (const [k, v] of Object.entries({ inChannels, outChannels, kernelSize })) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`Conv2d: ${k} must be a positive integer, got ${v}`);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.convParams = { strideH: this.stride, strideW: this.stride, padH: this.padding, padW: this.padding };
    this.weight = this.addParam('weight', [outChannels, inChannels, kernelSize, kernelSize], true);
    this.bias = opts.bias === false ? null : this.addParam('bias', [outChannels], false);
  }


  /** Fan-in and fan-out as torch.nn.init computes them. */
  get fans(): { fanIn: number; fanOut: number } {
    const k = this.kernelSize * this.kernelSize;
    return { fanIn: this.inChannels * k, fanOut: this.outChannels * k };
  }

  outputShape(s: readonly number[]): number[] {
    if (s.length !== 4 || s[1] !== this.inChannels) {
      throw new RangeError(`Conv2d(${this.inChannels}, ${this.outChannels}): expected input [N, ${this.inChannels}, H, W], got [${s.join(', ')}]`);
    }
    const o = (n: number) => Math.floor((n + 2 * this.padding - this.kernelSize) / this.stride) + 1;
    const out = [s[0], this.outChannels, o(s[2]), o(s[3])];
    if (out[2] < 1 || out[3] < 1) throw new RangeError(`Conv2d: input [${s.join(', ')}] is smaller than the kernel`);
    return out;
  }

  build(device: Device, inputShape: readonly number[], inputLayout?: Layout): number[] {
    this.to(device);
    const yShape = this.outputShape(inputShape);
    const xLayout = inputLayout ?? activationLayout(device, inputShape, this.dtype);
    const needDx = this.needsInputGrad;
    this.cache.select(shapeKey(inputShape, xLayout) + (needDx ? '' : ':nodx'), () => {
      const y = native.empty(device, yShape, this.dtype, activationLayout(device, yShape, this.dtype));
      const dx = needDx ? native.empty(device, inputShape, this.dtype, xLayout) : null;
      return { xShape: [...inputShape], xLayout, y, dx, tensors: [y, dx] };
    });
    this.outputLayout = activationLayout(device, yShape, this.dtype);
    return yShape;
  }

  forward(x: Tensor): Tensor {
    const e = this.cache.current;
    checkInput('Conv2d', x, e && { shape: e.xShape, layout: e.xLayout });
    native.conv2dForward(x, this.computeValue(this.weight), this.bias?.value ?? null, e!.y, this.convParams, this.fuseRelu);
    this.lastX = x;
    return e!.y;
  }

  backward(dy: Tensor): Tensor | null {
    const e = this.cache.current;
    if (!e || !this.lastX) throw new Error('Conv2d.backward: call forward first');
    native.conv2dBackwardFilter(this.lastX, dy, this.weight.grad, this.bias?.grad ?? null, this.convParams);
    if (!this.needsInputGrad || !e.dx) return null;
    native.conv2dBackwardData(dy, this.computeValue(this.weight), e.dx, this.convParams);
    return e.dx;
  }

  protected releaseBuilds(): void {
    this.cache.clear();
    this.lastX = null;
  }
}

// MaxPool2d (floor mode, no dilation). In training the forward records argmax positions in a workspace
// (sized by the backend) for the backward; in eval it runs without one.
import { native, type Device, type Layout } from '../backend.js';
import type { PoolParams } from '../../binding.js';
import type { Tensor } from '../tensor.js';
import { activationLayout, BuildCache, checkInput, Module, shapeKey } from './module.js';

interface PoolBuild {
  xShape: number[];
  xLayout: Layout;
  y: Tensor;
  dx: Tensor | null;
  ws: Tensor;
  tensors: Array<Tensor | null>;
}

export class MaxPool2d extends Module {
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly poolParams: PoolParams;
  private readonly cache = new BuildCache<PoolBuild>();
  private lastX: Tensor | null = null;
  private lastWasTraining = false;

  constructor(kernelSize: number, stride = kernelSize, padding = 0) {
    super();
    if (!Number.isInteger(kernelSize) || kernelSize < 1) throw new RangeError(`MaxPool2d: kernel_size must be a positive integer, got ${kernelSize}`);
    this.kernelSize = kernelSize;
    this.stride = stride;
    this.padding = padding;
    this.poolParams = { kernelH: kernelSize, kernelW: kernelSize, strideH: stride, strideW: stride, padH: padding, padW: padding };
  }

  outputShape(s: readonly number[]): number[] {
    if (s.length !== 4) throw new RangeError(`MaxPool2d: expected input [N, C, H, W], got [${s.join(', ')}]`);
    const o = (n: number) => Math.floor((n + 2 * this.padding - this.kernelSize) / this.stride) + 1;
    const out = [s[0], s[1], o(s[2]), o(s[3])];
    if (out[2] < 1 || out[3] < 1) throw new RangeError(`MaxPool2d(${this.kernelSize}): input [${s.join(', ')}] is too small to pool`);
    return out;
  }

  build(device: Device, inputShape: readonly number[], inputLayout?: Layout): number[] {
    this.to(device);
    const yShape = this.outputShape(inputShape);
    const xLayout = inputLayout ?? activationLayout(device, inputShape, this.dtype);
    const yLayout = activationLayout(device, yShape, this.dtype);
    this.cache.select(shapeKey(inputShape, xLayout) + (this.needsInputGrad ? '' : ':nodx'), () => {
      const y = native.empty(device, yShape, this.dtype, yLayout);
      const dx = this.needsInputGrad ? native.empty(device, inputShape, this.dtype, xLayout) : null;
      // The size query needs a tensor shaped like x: dx serves when there is one.
      const probe = dx ?? native.empty(device, inputShape, this.dtype, xLayout);
      const bytes = native.maxPool2dWorkspaceSize(probe, y, this.poolParams);
      if (!dx) probe.dispose();
      const ws = native.empty(device, [Math.max(1, bytes)], 'uint8');
      return { xShape: [...inputShape], xLayout, y, dx, ws, tensors: [y, dx, ws] };
    });
    this.outputLayout = yLayout;
    return yShape;
  }

  forward(x: Tensor): Tensor {
    const e = this.cache.current;
    checkInput('MaxPool2d', x, e && { shape: e.xShape, layout: e.xLayout });
    native.maxPool2dForward(x, e!.y, this.training ? e!.ws : null, this.poolParams);
    this.lastX = x;
    this.lastWasTraining = this.training;
    return e!.y;
  }

  backward(dy: Tensor): Tensor | null {
    const e = this.cache.current;
    if (!e || !this.lastX) throw new Error('MaxPool2d.backward: call forward first');
    if (!this.lastWasTraining) throw new Error('MaxPool2d.backward: the forward ran in eval mode (no workspace); call train() first');
    if (!this.needsInputGrad || !e.dx) return null;
    native.maxPool2dBackward(dy, this.lastX, e.y, e.ws, e.dx, this.poolParams);
    return e.dx;
  }

  protected releaseBuilds(): void {
    this.cache.clear();
    this.lastX = null;
  }
}

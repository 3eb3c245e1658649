// The fp32 edges of a bf16 network: the caller hands in fp32 images and gets fp32 logits (the loss
// and the metrics stay fp32, as under PyTorch's autocast), the network in between runs in bf16.
import { native, type Device, type DType } from '../backend.js';
import type { Tensor } from '../tensor.js';
import { BuildCache, shapeKey } from './module.js';

interface Edges {
  xLow: Tensor;
  y32: Tensor;
  dyLow: Tensor;
  dx32: Tensor | null;
  tensors: Array<Tensor | null>;
}

export class CastBoundary {
  private readonly cache = new BuildCache<Edges>();

  /** Buffers for an fp32 input of inShape and a network output of outShape (plain layouts). */
  build(device: Device, dtype: DType, inShape: readonly number[], outShape: readonly number[], needInputGrad: boolean): void {
    this.cache.select(`${shapeKey(inShape, 'plain')}>${outShape.join('x')}${needInputGrad ? '' : ':nodx'}`, () => {
      const xLow = native.empty(device, inShape, dtype);
      const y32 = native.empty(device, outShape, 'float32');
      const dyLow = native.empty(device, outShape, dtype);
      const dx32 = needInputGrad ? native.empty(device, inShape, 'float32') : null;
      return { xLow, y32, dyLow, dx32, tensors: [xLow, y32, dyLow, dx32] };
    });
  }

  private get edges(): Edges {
    const e = this.cache.current;
    if (!e) throw new Error('mixed precision: call build(device, inputShape) first');
    return e;
  }

  /** The fp32 input in the network's dtype. */
  input(x: Tensor): Tensor {
    native.cast(x, this.edges.xLow);
    return this.edges.xLow;
  }

  /** The network's output in fp32. */
  output(y: Tensor): Tensor {
    native.cast(y, this.edges.y32);
    return this.edges.y32;
  }

  /** The fp32 gradient of the output in the network's dtype. */
  gradOutput(dy: Tensor): Tensor {
    native.cast(dy, this.edges.dyLow);
    return this.edges.dyLow;
  }

  /** The network's input gradient in fp32 (null when it computes none). */
  gradInput(dx: Tensor | null): Tensor | null {
    if (!dx || !this.edges.dx32) return null;
    native.cast(dx, this.edges.dx32);
    return this.edges.dx32;
  }

  clear(): void {
    this.cache.clear();
  }
}

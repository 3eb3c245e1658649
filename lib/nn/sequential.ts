// Sequential: runs children in order, numbered '0', '1', … like torch.nn.Sequential, and fuses each
// Conv2d/Linear/BatchNorm2d + ReLU pair (the first writes the rectified output; the ReLU's backward
// masks dy by it, or for BatchNorm2d the BatchNorm backward does), which saves one pass over memory and
// one activation buffer per pair.
import type { Device, Layout } from '../backend.js';
import type { Tensor } from '../tensor.js';
import { activationLayout, Module } from './module.js';
import { Conv2d } from './conv.js';
import { Linear } from './linear.js';
import { ReLU } from './activation.js';
import { BatchNorm2d } from './batchnorm.js';

export class Sequential extends Module {
  readonly layers: Module[];

  constructor(layers: Module[], opts: { fuse?: boolean } = {}) {
    super();
    this.layers = layers;
    if (opts.fuse !== false) {
      for (let i = 0; i + 1 < layers.length; i++) {
        const a = layers[i];
        const b = layers[i + 1];
        if ((a instanceof Conv2d || a instanceof Linear || a instanceof BatchNorm2d) && b instanceof ReLU) {
          a.fuseRelu = true;
          b.fused = true;
          b.maskedByPrevious = a instanceof BatchNorm2d;
        }
      }
    }
  }

  children(): Array<[string, Module]> {
    return this.layers.map((l, i) => [String(i), l]);
  }

  outputShape(s: readonly number[]): number[] {
    let shape = [...s];
    for (const l of this.layers) shape = l.outputShape(shape);
    return shape;
  }

  build(device: Device, inputShape: readonly number[], inputLayout?: Layout): number[] {
    this.device = device;
    let shape = [...inputShape];
    let layout = inputLayout ?? activationLayout(device, shape, this.dtype);
    this.layers.forEach((l, i) => {
      if (i === 0) l.needsInputGrad = this.needsInputGrad;
      shape = l.build(device, shape, layout);
      layout = l.outputLayout;
    });
    this.outputLayout = layout;
    return shape;
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const l of this.layers) h = l.forward(h);
    return h;
  }

  backward(dy: Tensor): Tensor | null {
    let g: Tensor | null = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      if (!g) throw new Error(`Sequential.backward: layer ${i} (${this.layers[i].typeName}) got no gradient`);
      g = this.layers[i].backward(g);
    }
    return g;
  }

  /** Runs the forward and keeps every layer's output (feature maps for visualization); the returned
   *  tensors are the preallocated buffers, valid until the next forward. */
  forwardAll(x: Tensor): Tensor[] {
    const outs: Tensor[] = [];
    let h = x;
    for (const l of this.layers) outs.push((h = l.forward(h)));
    return outs;
  }
}

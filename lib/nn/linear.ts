// Linear: y[N,M] = x[N,K] w[M,K]^T + b[M], on the native linear ops; a following ReLU is fused.
import { native, type Device, type Layout } from '../backend.js';
import type { Tensor } from '../tensor.js';
import { BuildCache, checkInput, Module, shapeKey, type Param } from './module.js';

interface LinearBuild {
  xShape: number[];
  y: Tensor;
  dx: Tensor | null;
  tensors: Array<Tensor | null>;
}

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Param;
  readonly bias: Param | null;
  fuseRelu = false;
  private readonly cache = new BuildCache<LinearBuild>();
  private lastX: Tensor | null = null;

  constructor(inFeatures: number, outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    for (const [k, v] of Object.entries({ inFeatures, outFeatures })) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`Linear: ${k} must be a positive integer, got ${v}`);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = this.addParam('weight', [outFeatures, inFeatures], true);
    this.bias = opts.bias === false ? null : this.addParam('bias', [outFeatures], false);
  }

  get fans(): { fanIn: number; fanOut: number } {
    return { fanIn: this.inFeatures, fanOut: this.outFeatures };
  }

  outputShape(s: readonly number[]): number[] {
    if (s.length !== 2 || s[1] !== this.inFeatures) {
      throw new RangeError(`Linear(${this.inFeatures}, ${this.outFeatures}): expected input [N, ${this.inFeatures}], got [${s.join(', ')}]`);
    }
    return [s[0], this.outFeatures];
  }

  build(device: Device, inputShape: readonly number[], _inputLayout?: Layout): number[] {
    this.to(device);
    const yShape = this.outputShape(inputShape);
    const needDx = this.needsInputGrad;
    this.cache.select(shapeKey(inputShape, 'plain') + (needDx ? '' : ':nodx'), () => {
      const y = native.empty(device, yShape, this.dtype);
      const dx = needDx ? native.empty(device, inputShape, this.dtype) : null;
      return { xShape: [...inputShape], y, dx, tensors: [y, dx] };
    });
    this.outputLayout = 'plain';
    return yShape;
  }

  forward(x: Tensor): Tensor {
    const e = this.cache.current;
    checkInput('Linear', x, e && { shape: e.xShape, layout: 'plain' });
    native.linearForward(x, this.computeValue(this.weight), this.bias?.value ?? null, e!.y, this.fuseRelu);
    this.lastX = x;
    return e!.y;
  }

  backward(dy: Tensor): Tensor | null {
    const e = this.cache.current;
    if (!e || !this.lastX) throw new Error('Linear.backward: call forward first');
    const dx = this.needsInputGrad ? e.dx : null;
    native.linearBackward(this.lastX, this.computeValue(this.weight), dy, dx, this.weight.grad, this.bias?.grad ?? null);
    return dx;
  }

  protected releaseBuilds(): void {
    this.cache.clear();
    this.lastX = null;
  }
}

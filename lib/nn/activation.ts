// Shape-preserving layers without parameters: ReLU, Dropout, and Flatten.
import { native, type Device, type Layout } from '../backend.js';
import { seedTensor, writeSeed, type Tensor } from '../tensor.js';
import { activationLayout, BuildCache, checkInput, Module, numel, shapeKey } from './module.js';
import { mixSeed } from './rng.js';

interface SameShapeBuild {
  xShape: number[];
  xLayout: Layout;
  y: Tensor | null;
  dx: Tensor | null;
  mask: Tensor | null;
  tensors: Array<Tensor | null>;
}

/** ReLU. When Sequential fuses it into the preceding Conv2d/Linear (`fused`), the forward is the
 *  identity on the already rectified output. The backward writes dx in place over dy (the contract
 *  of native.reluBackward allows it), so a ReLU costs no gradient buffer. */
export class ReLU extends Module {
  fused = false;
  /** Set by Sequential when the fused layer before is a BatchNorm2d, whose backward applies this ReLU's
   *  mask itself: the backward here then passes dy through. */
  maskedByPrevious = false;
  private readonly cache = new BuildCache<SameShapeBuild>();
  private lastY: Tensor | null = null;

  outputShape(s: readonly number[]): number[] {
    return [...s];
  }

  build(device: Device, inputShape: readonly number[], inputLayout?: Layout): number[] {
    this.to(device);
    const xLayout = inputLayout ?? activationLayout(device, inputShape, this.dtype);
    const fused = this.fused;
    this.cache.select(shapeKey(inputShape, xLayout) + (fused ? ':fused' : ''), () => {
      const y = fused ? null : native.empty(device, inputShape, this.dtype, xLayout);
      return { xShape: [...inputShape], xLayout, y, dx: null, mask: null, tensors: [y] };
    });
    this.outputLayout = xLayout;
    return [...inputShape];
  }

  forward(x: Tensor): Tensor {
    const e = this.cache.current;
    checkInput('ReLU', x, e && { shape: e.xShape, layout: e.xLayout });
    if (this.fused) {
      this.lastY = x;
      return x;
    }
    native.reluForward(x, e!.y!);
    this.lastY = e!.y;
    return e!.y!;
  }

  backward(dy: Tensor): Tensor | null {
    if (!this.lastY) throw new Error('ReLU.backward: call forward first');
    if (!this.needsInputGrad) return null;
    if (!this.maskedByPrevious) native.reluBackward(this.lastY, dy, dy);
    return dy;
  }

  protected releaseBuilds(): void {
    this.cache.clear();
    this.lastY = null;
  }
}

/** Inverted dropout with a counter-based seed: step k of a layer uses mixSeed(seed, k), so a resumed
 *  run (counter restored from the checkpoint) draws the same masks. Identity in eval mode.
 *  prepareStep() draws the next step's seed ahead and writes it to a device tensor, which the forward's
 *  kernel reads: a replayed CUDA graph then gets a new mask every step. */
export class Dropout extends Module {
  readonly p: number;
  seed = 0;
  /** Forward passes in training mode so far (the RNG position). */
  counter = 0;
  private readonly cache = new BuildCache<SameShapeBuild>();
  /** int32 [1] on the layer's device: the seed prepareStep drew (allocated on the first prepareStep). */
  private seedT: Tensor | null = null;
  /** The seed written to seedT for the next forward, or null when that forward is not prepared. */
  private preparedSeed: number | null = null;
  /** The seed the last prepareStep drew (what rearmStep prepares again). */
  private lastPrepared: number | null = null;

  constructor(p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout: p must be in [0, 1), got ${p}`);
    this.p = p;
  }

  outputShape(s: readonly number[]): number[] {
    return [...s];
  }

  build(device: Device, inputShape: readonly number[], inputLayout?: Layout): number[] {
    this.to(device);
    const xLayout = inputLayout ?? activationLayout(device, inputShape, this.dtype);
    this.cache.select(shapeKey(inputShape, xLayout), () => {
      const y = native.empty(device, inputShape, this.dtype, xLayout);
      const mask = native.empty(device, inputShape, 'uint8', xLayout);
      const dx = this.needsInputGrad ? native.empty(device, inputShape, this.dtype, xLayout) : null;
      return { xShape: [...inputShape], xLayout, y, dx, mask, tensors: [y, mask, dx] };
    });
    this.outputLayout = xLayout;
    return [...inputShape];
  }

  private active(): boolean {
    return this.training && this.p > 0;
  }

  /** The seed tensor the prepared forward reads (null before the first prepareStep in training). */
  get seedTensor(): Tensor | null {
    return this.seedT;
  }

  prepareStep(): void {
    if (!this.active()) return;
    let t = this.seedT;
    if (t?.device !== this.device) {
      t?.dispose();
      t = this.seedT = seedTensor(this.device);
    }
    this.preparedSeed = this.lastPrepared = mixSeed(this.seed, this.counter++);
    writeSeed(t, this.preparedSeed);
  }

  rearmStep(): void {
    if (this.active()) this.preparedSeed = this.lastPrepared;
  }

  forward(x: Tensor): Tensor {
    const e = this.cache.current;
    checkInput('Dropout', x, e && { shape: e.xShape, layout: e.xLayout });
    const prepared = this.preparedSeed;
    this.preparedSeed = null;
    if (!this.active()) return x;
    if (prepared === null) native.dropoutForward(x, e!.mask!, e!.y!, this.p, mixSeed(this.seed, this.counter++));
    // The seed tensor is read on the device (a graph replays it); the number is the same seed, for checks.
    // A layer moved to another device since prepareStep passes the number alone.
    else native.dropoutForward(x, e!.mask!, e!.y!, this.p, prepared, this.seedT!.device === x.device ? this.seedT : null);
    return e!.y!;
  }

  backward(dy: Tensor): Tensor | null {
    const e = this.cache.current;
    if (!e) throw new Error('Dropout.backward: call forward first');
    if (!this.needsInputGrad) return null;
    if (!this.active()) return dy;
    native.dropoutBackward(dy, e.mask!, e.dx!, this.p);
    return e.dx;
  }

  protected releaseBuilds(): void {
    this.cache.clear();
  }

  dispose(): void {
    super.dispose();
    this.seedT?.dispose();
    this.seedT = null;
    this.preparedSeed = this.lastPrepared = null;
  }
}

interface FlattenBuild {
  xShape: number[];
  xLayout: Layout;
  /** Plain staging copy of a blocked input whose spatial size is not 1x1 (null when a view suffices). */
  plainX: Tensor | null;
  dx: Tensor | null;
  /** The last view made in each direction and the tensor it views. */
  views: { fwd: [Tensor, Tensor] | null; bwd: [Tensor, Tensor] | null };
  tensors: Array<Tensor | null>;
}

/** Flatten [N, C, H, W] to [N, C*H*W] in PyTorch's (channel-major) order: a view when the storage is
 *  plain or 1x1 spatially, else a copy into a plain buffer. The last view in each direction is kept and
 *  reused while the source tensor is the same (it is, for preallocated activations), so the steady
 *  state creates nothing; a new source replaces (and frees) the old view. */
export class Flatten extends Module {
  private readonly cache = new BuildCache<FlattenBuild>();

  outputShape(s: readonly number[]): number[] {
    if (s.length < 2) throw new RangeError(`Flatten: expected at least 2 dimensions, got [${s.join(', ')}]`);
    return [s[0], numel(s.slice(1))];
  }

  build(device: Device, inputShape: readonly number[], inputLayout?: Layout): number[] {
    this.to(device);
    const xLayout = inputLayout ?? activationLayout(device, inputShape, this.dtype);
    const yShape = this.outputShape(inputShape);
    this.cache.select(shapeKey(inputShape, xLayout), () => {
      const viewable = xLayout === 'plain' || (inputShape.length === 4 && inputShape[2] === 1 && inputShape[3] === 1);
      const plainX = viewable ? null : native.empty(device, inputShape, this.dtype, 'plain');
      // The gradient must come back in the input's layout, so only a plain input takes a view of dy.
      const dx = this.needsInputGrad && xLayout !== 'plain' ? native.empty(device, inputShape, this.dtype, xLayout) : null;
      return { xShape: [...inputShape], xLayout, plainX, dx, views: { fwd: null, bwd: null }, tensors: [plainX, dx] };
    });
    this.outputLayout = 'plain';
    return yShape;
  }

  private view(e: FlattenBuild, dir: 'fwd' | 'bwd', t: Tensor, shape: readonly number[]): Tensor {
    const last = e.views[dir];
    if (last && last[0] === t && !last[1].disposed) return last[1];
    if (last) {
      last[1].dispose();
      e.tensors.splice(e.tensors.indexOf(last[1]), 1);
    }
    const v = t.reshape(shape);
    e.views[dir] = [t, v];
    e.tensors.push(v); // freed with the build
    return v;
  }

  forward(x: Tensor): Tensor {
    const e = this.cache.current;
    checkInput('Flatten', x, e && { shape: e.xShape, layout: e.xLayout });
    const yShape = this.outputShape(e!.xShape);
    if (!e!.plainX) return this.view(e!, 'fwd', x, yShape);
    native.copy(x, e!.plainX);
    return this.view(e!, 'fwd', e!.plainX, yShape);
  }

  backward(dy: Tensor): Tensor | null {
    const e = this.cache.current;
    if (!e) throw new Error('Flatten.backward: call forward first');
    if (!this.needsInputGrad) return null;
    const dy4 = this.view(e, 'bwd', dy, e.xShape);
    if (!e.dx) return dy4;
    native.copy(dy4, e.dx);
    return e.dx;
  }

  protected releaseBuilds(): void {
    this.cache.clear();
  }
}

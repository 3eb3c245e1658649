// The base of the layer graph: parameters, buffers, train/eval, per-batch-size builds.
// Parameters live on one device from construction (cpu) and move with to(); activations, gradients
// and workspaces are allocated in build() once per input shape and reused by every step.
import { native, type Device, type DType, type Layout } from '../backend.js';
import type { Tensor } from '../tensor.js';

/** A trainable tensor with its gradient (written, not accumulated, by backward). */
export interface Param {
  /** PyTorch state-dict name, e.g. `net.0.weight`. */
  name: string;
  value: Tensor;
  grad: Tensor;
  /** False for biases and BatchNorm affine parameters: optimizers put them in a no-decay group. */
  weightDecay: boolean;
}

/** A Param as a module holds it. The gradient is allocated (zeroed) on first use: a model that is only
 *  evaluated (eval, predict, export) never holds gradient memory, and building one costs half as much. */
class ParamSlot implements Param {
  private g: Tensor | null = null;
  constructor(readonly name: string, public value: Tensor, readonly weightDecay: boolean) {}

  get grad(): Tensor {
    if (!this.g) {
      this.g = native.empty(this.value.device, this.value.shape, 'float32');
      native.fill(this.g, 0);
    }
    return this.g;
  }

  /** Moves the value (and a gradient already allocated) with `move`. */
  moveTo(move: (t: Tensor) => Tensor): void {
    this.value = move(this.value);
    if (this.g) this.g = move(this.g);
  }

  dispose(): void {
    this.value.dispose();
    this.g?.dispose();
  }
}

/** A non-trainable state tensor (BatchNorm running statistics). */
export interface BufferEntry {
  name: string;
  value: Tensor;
}

/** The layout the backend keeps a 4-D activation in; other ranks are plain. */
export function activationLayout(device: Device, shape: readonly number[], dtype: DType = 'float32'): Layout {
  return shape.length === 4 ? native.preferredLayout(device, shape, dtype) : 'plain';
}

/** 'fp32': everything float32. 'bf16': mixed precision — activations, their gradients and the
 *  convolution/linear math in bfloat16 (fp32 accumulation), while parameters, their gradients, the
 *  optimizer state, BatchNorm statistics, logits and the loss stay float32. */
export type Precision = 'fp32' | 'bf16';
export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16'];

export function precisionDType(p: Precision): DType {
  if (p === 'fp32') return 'float32';
  if (p === 'bf16') return 'bfloat16';
  throw new RangeError(`precision must be 'fp32' or 'bf16', got '${String(p)}'`);
}

export const shapeKey = (shape: readonly number[], layout: Layout): string => `${shape.join('x')}:${layout}`;

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export abstract class Module {
  training = true;
  device: Device = 'cpu';
  /** False for the first layer of a network: its backward skips the input gradient and returns null. */
  needsInputGrad = true;
  protected ownParams: ParamSlot[] = [];
  protected ownBuffers: BufferEntry[] = [];
  /** Set by build(): the layout of the output this module returns for the current input shape. */
  outputLayout: Layout = 'plain';
  /** The dtype of the activations this module reads and writes (setPrecision). */
  dtype: DType = 'float32';
  /** bf16 copies of the fp32 parameters, remade when the parameter's version moves on. */
  private readonly lowPrecision = new Map<Param, { t: Tensor; version: number; capture: number }>();

  /** Class name as torchsummary prints it. */
  get typeName(): string {
    return this.constructor.name;
  }

  /** Child modules under their names ('0', '1', … in a Sequential; 'net' in a model). */
  children(): Array<[string, Module]> {
    return [];
  }

  /** Output shape for an input shape (batch included), with no allocation: used by summary(). */
  abstract outputShape(inputShape: readonly number[]): number[];

  /** Allocates outputs, gradients and workspaces for this input shape (cached per shape) and returns
   *  the output shape. Moves the parameters to `device` first when they live elsewhere. */
  abstract build(device: Device, inputShape: readonly number[], inputLayout?: Layout): number[];

  /** Returns a preallocated output (valid until the next forward with the same batch size). */
  abstract forward(x: Tensor): Tensor;

  /** Writes parameter gradients and returns the preallocated input gradient (null when not needed). */
  abstract backward(dy: Tensor): Tensor | null;

  /**
   * Does the host-side effects of the next training forward ahead of it (counters, per-step seeds written
   * to device tensors), so that the forward, backward and loss are device work only, which a captured CUDA
   * graph can replay. The next forward then does none of them; a forward that was not prepared does them
   * itself, as always. Called again before that forward (a replayed step runs no forward), it does the
   * effects of one more step: k calls with k replays leave every counter where k eager steps would.
   * Call it after build() (device tensors it writes live on the built device), in the mode (train/eval)
   * of the forward it prepares. Containers recurse into their children; layers without per-step host
   * state do nothing.
   */
  prepareStep(): void {
    for (const [, c] of this.children()) c.prepareStep();
  }

  /** Prepares the next forward again as the last prepareStep() did, without its effects: for a step whose
   *  prepared forward ran but whose device work was thrown away (a failed CUDA graph capture). */
  rearmStep(): void {
    for (const [, c] of this.children()) c.rearmStep();
  }

  train(mode = true): this {
    this.training = mode;
    for (const [, c] of this.children()) c.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  parameters(prefix = ''): Param[] {
    // Getters, not copies: a holder (an optimizer) keeps seeing the live tensors after to(device).
    const out: Param[] = this.ownParams.map((p) => ({
      name: prefix + p.name,
      get value() { return p.value; },
      get grad() { return p.grad; },
      weightDecay: p.weightDecay,
    }));
    for (const [n, c] of this.children()) out.push(...c.parameters(`${prefix}${n}.`));
    return out;
  }

  buffers(prefix = ''): BufferEntry[] {
    const out: BufferEntry[] = this.ownBuffers.map((b) => ({ name: prefix + b.name, get value() { return b.value; } }));
    for (const [n, c] of this.children()) out.push(...c.buffers(`${prefix}${n}.`));
    return out;
  }

  /** Every module under this one, depth first, with its dotted name (this one is ''). */
  namedModules(prefix = ''): Array<[string, Module]> {
    const out: Array<[string, Module]> = [[prefix.replace(/\.$/, ''), this]];
    for (const [n, c] of this.children()) out.push(...c.namedModules(`${prefix}${n}.`));
    return out;
  }

  /** Switches between fp32 and bf16 mixed precision (see Precision); outputs are rebuilt on the next
   *  build(). Parameters stay fp32: they are the master weights the optimizer updates. */
  setPrecision(p: Precision): this {
    const dtype = precisionDType(p);
    for (const [, c] of this.children()) c.setPrecision(p);
    if (dtype !== this.dtype) {
      this.releaseBuilds();
      this.releaseLowPrecision();
      this.dtype = dtype;
    }
    return this;
  }

  get precision(): Precision {
    return this.dtype === 'bfloat16' ? 'bf16' : 'fp32';
  }

  /** The parameter as the forward and backward read it: the fp32 tensor itself, or under bf16 a bf16
   *  copy, cast again only after the parameter changed (once per optimizer step) and in a graph capture. */
  protected computeValue(p: Param): Tensor {
    if (this.dtype === 'float32') return p.value;
    let c = this.lowPrecision.get(p);  // released by to(), so always on the parameter's device
    if (!c) {
      c = { t: native.empty(p.value.device, p.value.shape, this.dtype), version: -1, capture: 0 };
      this.lowPrecision.set(p, c);
    }
    // A capture casts once whatever the versions say: a replay runs later, on other weights.
    const capture = native.graphCaptureId();
    if (c.version !== p.value.version || (capture !== 0 && c.capture !== capture)) {
      native.cast(p.value, c.t);
      c.version = p.value.version;
      c.capture = capture;
    }
    return c.t;
  }

  private releaseLowPrecision(): void {
    for (const c of this.lowPrecision.values()) c.t.dispose();
    this.lowPrecision.clear();
  }

  /** Moves parameters and buffers to a device (copies, then frees the old storage). */
  to(device: Device): this {
    for (const [, c] of this.children()) c.to(device);
    if (device === this.device) return this;
    this.releaseLowPrecision();
    const move = (t: Tensor): Tensor => {
      const n = native.empty(device, t.shape, t.dtype, t.layout);
      native.write(n, native.toArray(t));
      t.dispose();
      return n;
    };
    for (const p of this.ownParams) p.moveTo(move);
    for (const b of this.ownBuffers) b.value = move(b.value);
    this.releaseBuilds();
    this.device = device;
    return this;
  }

  /** Frees the per-shape allocations (outputs, gradients, workspaces). */
  protected releaseBuilds(): void {}

  dispose(): void {
    for (const [, c] of this.children()) c.dispose();
    this.releaseBuilds();
    this.releaseLowPrecision();
    for (const p of this.ownParams) p.dispose();
    for (const b of this.ownBuffers) b.value.dispose();
  }

  protected addParam(name: string, shape: number[], weightDecay: boolean): Param {
    const p = new ParamSlot(name, native.empty(this.device, shape, 'float32'), weightDecay);
    native.fill(p.value, 0);
    this.ownParams.push(p);
    return p;
  }

  protected addBuffer(name: string, shape: number[], value: number): BufferEntry {
    const b: BufferEntry = { name, value: native.empty(this.device, shape, 'float32') };
    native.fill(b.value, value);
    this.ownBuffers.push(b);
    return b;
  }

  /** The parameter registered under a local name (e.g. 'weight'). */
  param(localName: string): Param {
    const p = this.ownParams.find((q) => q.name === localName);
    if (!p) throw new RangeError(`${this.typeName} has no parameter '${localName}'`);
    return p;
  }

  /** Local parameters and buffers (for state dicts). */
  localParams(): readonly Param[] {
    return this.ownParams;
  }
  localBuffers(): readonly BufferEntry[] {
    return this.ownBuffers;
  }
}

/** Per-shape allocation cache: one entry per (input shape, layout), selected by build(). */
export class BuildCache<T extends { tensors: Array<Tensor | null> }> {
  private readonly entries = new Map<string, T>();
  current: T | null = null;

  select(key: string, make: () => T): T {
    let e = this.entries.get(key);
    if (!e) {
      e = make();
      this.entries.set(key, e);
    }
    this.current = e;
    return e;
  }

  clear(): void {
    for (const e of this.entries.values()) for (const t of e.tensors) t?.dispose();
    this.entries.clear();
    this.current = null;
  }
}

export function checkInput(op: string, x: Tensor, expected: { shape: readonly number[]; layout: Layout } | null | undefined): void {
  if (!expected) throw new Error(`${op}.forward: call build(device, inputShape) first`);
  if (x.shape.length !== expected.shape.length || x.shape.some((d, i) => d !== expected.shape[i]) || x.layout !== expected.layout) {
    throw new RangeError(`${op}.forward: input is [${x.shape.join(', ')}] ${x.layout}, but the module was built for ` +
      `[${expected.shape.join(', ')}] ${expected.layout}; call build() with this shape first`);
  }
}

// The optimizer base: parameter groups with their own options, per-parameter state tensors allocated
// once on the parameters' device (so steps allocate nothing), and state dicts keyed by parameter name.
// A step updates each group in one multi-tensor launch that reads the step's scalars (lr, bias
// corrections) from a small coefficients tensor on the device: prepareStep() writes them from the host,
// applyStep() only launches, so a captured CUDA graph can replay applyStep() after each prepareStep().
import { native } from '../backend.js';
import type { Tensor } from '../tensor.js';
import type { Param } from '../nn/module.js';
import type { HostTensor } from '../nn/safetensors.js';
import type { OptimizerStateDict, StatefulOptimizer } from '../nn/optimizer-state.js';

export type { OptimizerStateDict } from '../nn/optimizer-state.js';

export interface BaseOptions {
  lr: number;
  weightDecay: number;
}

export type GroupSpec<O> = { params: Param[] } & Partial<O>;

export interface ParamGroup<O> {
  params: Param[];
  options: O;
  /** The group's lr at construction: setting `optimizer.lr` keeps the ratios between groups. */
  initialLr: number;
}

export interface ParamState {
  /** Updates applied to this parameter (PyTorch's state['step']). */
  step: number;
  tensors: Record<string, Tensor>;
}

/** Splits parameters into a decaying group (conv/linear weights) and a non-decaying one (biases,
 *  BatchNorm), the usual practice; empty groups are left out. */
export function paramGroups<O extends BaseOptions>(params: Param[], opts: { weightDecay: number } & Partial<O>): Array<GroupSpec<O>> {
  const decay = params.filter((p) => p.weightDecay);
  const rest = params.filter((p) => !p.weightDecay);
  const groups: Array<GroupSpec<O>> = [];
  if (decay.length) groups.push({ ...opts, params: decay } as GroupSpec<O>);
  if (rest.length) groups.push({ ...opts, params: rest, weightDecay: 0 } as GroupSpec<O>);
  return groups;
}

export abstract class Optimizer<O extends BaseOptions> implements StatefulOptimizer {
  abstract readonly kind: string;
  readonly groups: Array<ParamGroup<O>>;
  protected readonly state = new Map<string, ParamState>();
  /** Per group: the step's coefficients (float32 [native.optimizerCoefficientsSize] on the params' device);
   *  null for a group without parameters. */
  private readonly coeffs: Array<Tensor | null>;

  constructor(params: Param[] | Array<GroupSpec<O>>, defaults: O) {
    const specs: Array<GroupSpec<O>> = params.length > 0 && 'value' in params[0] ? [{ params: params as Param[] } as GroupSpec<O>] : (params as Array<GroupSpec<O>>);
    if (specs.length === 0 || specs.every((g) => g.params.length === 0)) throw new RangeError('optimizer: got no parameters');
    const seen = new Set<string>();
    this.groups = specs.map((g) => {
      const { params: ps, ...over } = g;
      const options = { ...defaults, ...over } as O;
      this.validate(options);
      for (const p of ps) {
        if (seen.has(p.name)) throw new RangeError(`optimizer: parameter '${p.name}' appears in more than one group`);
        seen.add(p.name);
      }
      return { params: ps, options, initialLr: options.lr };
    });
    for (const g of this.groups) {
      for (const p of g.params) {
        const tensors: Record<string, Tensor> = {};
        for (const k of this.stateKeys(g.options)) {
          tensors[k] = native.empty(p.value.device, p.value.shape, 'float32');
          native.fill(tensors[k], this.initialStateValue(k, g.options));
        }
        this.state.set(p.name, { step: 0, tensors });
      }
    }
    this.coeffs = this.groups.map((g) => {
      if (!g.params.length) return null;
      const c = native.empty(g.params[0].value.device, [native.optimizerCoefficientsSize], 'float32');
      native.fill(c, 0); // holds no coefficients: an applyStep() before any prepareStep() is refused, not run on garbage
      return c;
    });
  }

  /** Names of the state tensors kept per parameter under these options (PyTorch's keys). */
  protected abstract stateKeys(o: O): string[];
  protected initialStateValue(_key: string, _o: O): number {
    return 0;
  }
  /** The per-tensor update of one parameter (the path for groups whose step counts differ). */
  protected abstract update(p: Param, o: O, s: ParamState): void;
  /** Writes the coefficients of a step whose count (after it) is `step` for every parameter of the group. */
  protected abstract writeCoefficients(o: O, step: number, coeffs: Tensor): void;
  /** One multi-tensor update of every parameter of the group from the coefficients last written. */
  protected abstract updateMulti(params: Param[], o: O, states: ParamState[], coeffs: Tensor): void;

  protected validate(o: O): void {
    if (!(o.lr >= 0)) throw new RangeError(`${this.constructor.name}: lr must be >= 0, got ${o.lr}`);
    if (!(o.weightDecay >= 0)) throw new RangeError(`${this.constructor.name}: weightDecay must be >= 0, got ${o.weightDecay}`);
  }

  /** The first group's learning rate. */
  get lr(): number {
    return this.groups[0].options.lr;
  }

  /** Sets the first group's lr to v and scales the others by the same factor (as LR schedulers do). */
  set lr(v: number) {
    if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`optimizer: lr must be a finite number >= 0, got ${v}`);
    const base = this.groups[0].initialLr;
    for (const g of this.groups) g.options.lr = base === 0 ? v : (v * g.initialLr) / base;
  }

  /** One update of every parameter from its current gradient: one launch per group whose parameters
   *  share a step count (always, unless a loaded state dict had uneven ones), per tensor otherwise. */
  step(): void {
    this.groups.forEach((g, i) => {
      const states = this.groupStates(g);
      if (!states.length) return;
      if (uniformStep(states) !== null) {
        this.prepareGroup(i, states);
        this.applyGroup(i, states);
        return;
      }
      g.params.forEach((p, k) => {
        states[k].step++;
        this.update(p, g.options, states[k]);
      });
    });
  }

  /** Whether applyStep() can update every group (each group's parameters share one step count). */
  get graphable(): boolean {
    return this.groups.every((g) => uniformStep(this.groupStates(g)) !== null);
  }

  /**
   * The host part of one step: every parameter's step count +1, then each group's coefficients written
   * (current lr, bias corrections) on the device, in stream order. prepareStep(); applyStep() is step().
   * Throws RangeError when the optimizer is not graphable.
   */
  prepareStep(): void {
    this.requireGraphable('prepareStep');
    this.groups.forEach((g, i) => this.prepareGroup(i, this.groupStates(g)));
  }

  /**
   * The device part of one step: one multi-tensor update per group reading the coefficients the last
   * prepareStep() wrote. No host-to-device transfer and no host state change, so a captured CUDA graph may
   * replay it in place of calling it again.
   */
  applyStep(): void {
    this.requireGraphable('applyStep');
    this.groups.forEach((g, i) => this.applyGroup(i, this.groupStates(g)));
  }

  private prepareGroup(i: number, states: ParamState[]): void {
    if (!states.length) return;
    for (const s of states) s.step++;
    this.writeCoefficients(this.groups[i].options, states[0].step, this.coeffs[i]!);
  }

  private applyGroup(i: number, states: ParamState[]): void {
    if (states.length) this.updateMulti(this.groups[i].params, this.groups[i].options, states, this.coeffs[i]!);
  }

  private groupStates(g: ParamGroup<O>): ParamState[] {
    return g.params.map((p) => this.state.get(p.name)!);
  }

  private requireGraphable(what: string): void {
    const i = this.groups.findIndex((g) => uniformStep(this.groupStates(g)) === null);
    if (i < 0) return;
    const steps = [...new Set(this.groupStates(this.groups[i]).map((s) => s.step))].slice(0, 4);
    throw new RangeError(`${this.constructor.name}.${what}: the parameters of group ${i} have different step counts (${steps.join(', ')}), ` +
      'as a loaded state dict may leave them: one launch cannot update them; step() updates them one by one');
  }

  /** Parameter updates done so far (of the first parameter). */
  get stepCount(): number {
    return this.state.get(this.groups[0].params[0].name)?.step ?? 0;
  }

  stateDict(): OptimizerStateDict {
    const tensors = new Map<string, HostTensor>();
    const steps: Record<string, number> = {};
    for (const [name, s] of this.state) {
      steps[name] = s.step;
      for (const [k, t] of Object.entries(s.tensors)) tensors.set(`${name}.${k}`, { dtype: 'F32', shape: [...t.shape], data: native.toArray(t) as Float32Array });
    }
    return {
      kind: this.kind,
      groups: this.groups.map((g) => ({ options: { ...g.options } as Record<string, unknown>, params: g.params.map((p) => p.name) })),
      steps,
      tensors,
    };
  }

  /** Restores options, step counts and state tensors; checks everything first and reports every
   *  mismatch in one error. */
  loadStateDict(sd: OptimizerStateDict, source = 'optimizer.loadStateDict'): void {
    const problems: string[] = [];
    if (sd.kind !== this.kind) problems.push(`optimizer kind is '${sd.kind}', this one is '${this.kind}'`);
    if (sd.groups.length !== this.groups.length) problems.push(`${sd.groups.length} parameter groups, this optimizer has ${this.groups.length}`);
    this.groups.forEach((g, i) => {
      const names = sd.groups[i]?.params ?? [];
      if (names.join('\n') !== g.params.map((p) => p.name).join('\n')) problems.push(`group ${i} holds different parameters`);
    });
    for (const [name, s] of this.state) {
      if (!(name in sd.steps)) problems.push(`no step count for ${name}`);
      for (const [k, t] of Object.entries(s.tensors)) {
        const h = sd.tensors.get(`${name}.${k}`);
        if (!h) problems.push(`missing ${name}.${k}`);
        else if (h.dtype !== 'F32' || h.shape.join(',') !== t.shape.join(',')) {
          problems.push(`${name}.${k}: ${h.dtype} [${h.shape.join(', ')}], expected F32 [${t.shape.join(', ')}]`);
        }
      }
    }
    if (problems.length) throw new Error(`${source}: cannot load the optimizer state:\n  ${problems.join('\n  ')}`);
    this.groups.forEach((g, i) => {
      const o = sd.groups[i].options as Partial<O>;
      g.options = { ...g.options, ...o };
    });
    for (const [name, s] of this.state) {
      s.step = sd.steps[name];
      for (const [k, t] of Object.entries(s.tensors)) native.write(t, sd.tensors.get(`${name}.${k}`)!.data as Float32Array);
    }
  }

  dispose(): void {
    for (const s of this.state.values()) for (const t of Object.values(s.tensors)) t.dispose();
    this.state.clear();
    for (const c of this.coeffs) c?.dispose();
    this.coeffs.fill(null);
  }
}

/** The step count every state shares, or null when they differ. */
function uniformStep(states: ParamState[]): number | null {
  const s = states[0]?.step ?? 0;
  return states.every((x) => x.step === s) ? s : null;
}

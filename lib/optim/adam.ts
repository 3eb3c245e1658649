// Adam and AdamW (torch.optim.Adam / AdamW formulas) on native.adamUpdate.
import { native, type AdamParams } from '../backend.js';
import type { Tensor } from '../tensor.js';
import type { Param } from '../nn/module.js';
import { Optimizer, type BaseOptions, type GroupSpec, type ParamState } from './optimizer.js';

export interface AdamOptions extends BaseOptions {
  beta1: number;
  beta2: number;
  eps: number;
  amsgrad: boolean;
  maximize: boolean;
}

export class Adam extends Optimizer<AdamOptions> {
  readonly kind: string = 'adam';
  protected readonly decoupled: boolean = false;

  constructor(params: Param[] | Array<GroupSpec<AdamOptions>>, opts: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...opts });
  }

  protected validate(o: AdamOptions): void {
    super.validate(o);
    for (const k of ['beta1', 'beta2'] as const) if (!(o[k] >= 0 && o[k] < 1)) throw new RangeError(`Adam: ${k} must be in [0, 1), got ${o[k]}`);
    if (!(o.eps >= 0)) throw new RangeError(`Adam: eps must be >= 0, got ${o.eps}`);
  }

  protected stateKeys(o: AdamOptions): string[] {
    return o.amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'];
  }

  protected update(p: Param, o: AdamOptions, s: ParamState): void {
    native.adamUpdate(p.value, p.grad, s.tensors.exp_avg, s.tensors.exp_avg_sq, s.tensors.max_exp_avg_sq ?? null, this.params(o, s.step));
  }

  protected writeCoefficients(o: AdamOptions, step: number, coeffs: Tensor): void {
    native.adamCoefficients(this.params(o, step), coeffs);
  }

  protected updateMulti(ps: Param[], o: AdamOptions, states: ParamState[], coeffs: Tensor): void {
    const st = (k: string) => states.map((s) => s.tensors[k]);
    native.adamUpdateMulti(ps.map((p) => p.value), ps.map((p) => p.grad), st('exp_avg'), st('exp_avg_sq'), o.amsgrad ? st('max_exp_avg_sq') : null, coeffs);
  }

  private params(o: AdamOptions, step: number): AdamParams {
    return { lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, decoupled: this.decoupled, amsgrad: o.amsgrad,
      maximize: o.maximize, step };
  }
}

/** AdamW: decoupled weight decay (p -= lr * wd * p before the Adam step); default weightDecay 0.01. */
export class AdamW extends Adam {
  readonly kind: string = 'adamw';
  protected readonly decoupled: boolean = true;

  constructor(params: Param[] | Array<GroupSpec<AdamOptions>>, opts: Partial<AdamOptions> = {}) {
    super(params, { weightDecay: 0.01, ...opts });
  }
}

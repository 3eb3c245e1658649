// Adagrad (torch.optim.Adagrad formulas) on native.adagradUpdate: the optimizer the report switched to.
import { native, type AdagradParams } from '../backend.js';
import type { Tensor } from '../tensor.js';
import type { Param } from '../nn/module.js';
import { Optimizer, type BaseOptions, type GroupSpec, type ParamState } from './optimizer.js';

export interface AdagradOptions extends BaseOptions {
  lrDecay: number;
  eps: number;
  initialAccumulatorValue: number;
  maximize: boolean;
}

export class Adagrad extends Optimizer<AdagradOptions> {
  readonly kind = 'adagrad';

  constructor(params: Param[] | Array<GroupSpec<AdagradOptions>>, opts: Partial<AdagradOptions> = {}) {
    super(params, { lr: 0.01, lrDecay: 0, weightDecay: 0, eps: 1e-10, initialAccumulatorValue: 0, maximize: false, ...opts });
  }

  protected validate(o: AdagradOptions): void {
    super.validate(o);
    if (!(o.lrDecay >= 0)) throw new RangeError(`Adagrad: lrDecay must be >= 0, got ${o.lrDecay}`);
    if (!(o.initialAccumulatorValue >= 0)) throw new RangeError(`Adagrad: initialAccumulatorValue must be >= 0, got ${o.initialAccumulatorValue}`);
  }

  protected stateKeys(): string[] {
    return ['sum'];
  }

  protected initialStateValue(_key: string, o: AdagradOptions): number {
    return o.initialAccumulatorValue;
  }

  protected update(p: Param, o: AdagradOptions, s: ParamState): void {
    native.adagradUpdate(p.value, p.grad, s.tensors.sum, adagradParams(o, s.step));
  }

  protected writeCoefficients(o: AdagradOptions, step: number, coeffs: Tensor): void {
    native.adagradCoefficients(adagradParams(o, step), coeffs);
  }

  protected updateMulti(ps: Param[], _o: AdagradOptions, states: ParamState[], coeffs: Tensor): void {
    native.adagradUpdateMulti(ps.map((p) => p.value), ps.map((p) => p.grad), states.map((s) => s.tensors.sum), coeffs);
  }
}

function adagradParams(o: AdagradOptions, step: number): AdagradParams {
  return { lr: o.lr, lrDecay: o.lrDecay, weightDecay: o.weightDecay, eps: o.eps, maximize: o.maximize, step };
}

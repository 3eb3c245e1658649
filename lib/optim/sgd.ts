// SGD with momentum, dampening and Nesterov (torch.optim.SGD formulas) on native.sgdUpdate.
import { native, type SgdParams } from '../backend.js';
import type { Tensor } from '../tensor.js';
import type { Param } from '../nn/module.js';
import { Optimizer, type BaseOptions, type GroupSpec, type ParamState } from './optimizer.js';

export interface SgdOptions extends BaseOptions {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  maximize: boolean;
}

export class SGD extends Optimizer<SgdOptions> {
  readonly kind = 'sgd';

  constructor(params: Param[] | Array<GroupSpec<SgdOptions>>, opts: Partial<SgdOptions> = {}) {
    super(params, { lr: 0.01, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false, ...opts });
  }

  protected validate(o: SgdOptions): void {
    super.validate(o);
    if (!(o.momentum >= 0)) throw new RangeError(`SGD: momentum must be >= 0, got ${o.momentum}`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new RangeError('SGD: Nesterov momentum requires momentum > 0 and dampening 0');
  }

  protected stateKeys(o: SgdOptions): string[] {
    return o.momentum > 0 ? ['momentum_buffer'] : [];
  }

  protected update(p: Param, o: SgdOptions, s: ParamState): void {
    native.sgdUpdate(p.value, p.grad, s.tensors.momentum_buffer ?? null, sgdParams(o, s.step));
  }

  protected writeCoefficients(o: SgdOptions, step: number, coeffs: Tensor): void {
    native.sgdCoefficients(sgdParams(o, step), coeffs);
  }

  protected updateMulti(ps: Param[], o: SgdOptions, states: ParamState[], coeffs: Tensor): void {
    const bufs = o.momentum > 0 ? states.map((s) => s.tensors.momentum_buffer) : null;
    native.sgdUpdateMulti(ps.map((p) => p.value), ps.map((p) => p.grad), bufs, coeffs);
  }
}

function sgdParams(o: SgdOptions, step: number): SgdParams {
  return { lr: o.lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weightDecay, maximize: o.maximize, firstStep: step === 1 };
}

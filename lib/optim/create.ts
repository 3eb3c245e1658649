// Builds an optimizer from a JSON-able spec (what a run config and a checkpoint carry).
import type { Param } from '../nn/module.js';
import { Adam, AdamW } from './adam.js';
import { Adagrad } from './adagrad.js';
import { SGD } from './sgd.js';
import { paramGroups, type BaseOptions, type Optimizer } from './optimizer.js';

export type OptimizerKind = 'adam' | 'adamw' | 'adagrad' | 'sgd';

export interface OptimizerSpec {
  kind: OptimizerKind;
  lr?: number;
  weightDecay?: number;
  /** Put biases and BatchNorm parameters in a group without weight decay (default true). */
  noDecayOnBiasAndNorm?: boolean;
  /** Any other option of the chosen optimizer (beta1, momentum, nesterov, eps, …). */
  [option: string]: unknown;
}

export function createOptimizer(params: Param[], spec: OptimizerSpec): Optimizer<BaseOptions> {
  const { kind, noDecayOnBiasAndNorm, ...opts } = spec;
  const wd = (opts.weightDecay as number | undefined) ?? (kind === 'adamw' ? 0.01 : 0);
  const groups = noDecayOnBiasAndNorm === false ? [{ params }] : paramGroups(params, { weightDecay: wd });
  switch (kind) {
    case 'adam': return new Adam(groups, opts) as unknown as Optimizer<BaseOptions>;
    case 'adamw': return new AdamW(groups, opts) as unknown as Optimizer<BaseOptions>;
    case 'adagrad': return new Adagrad(groups, opts) as unknown as Optimizer<BaseOptions>;
    case 'sgd': return new SGD(groups, opts) as unknown as Optimizer<BaseOptions>;
    default: throw new RangeError(`createOptimizer: kind must be adam, adamw, adagrad or sgd, got '${String(kind)}'`);
  }
}

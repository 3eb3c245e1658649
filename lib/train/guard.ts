// --skip-non-finite: a step whose loss or gradients are NaN/Inf is not applied. BatchNorm's running
// statistics were already updated by that step's forward pass, so they are saved before every step
// and put back. Costs one host read and one pass over the gradients per step: opt-in.
import { native, type Device } from '../backend.js';
import type { Tensor } from '../tensor.js';
import type { Module, Param } from '../nn/module.js';
import { BatchNorm2d } from '../nn/batchnorm.js';

export class NonFiniteGuard {
  private readonly shadows: Array<{ live: Tensor; copy: Tensor }> = [];
  private readonly norms: BatchNorm2d[] = [];
  private tracked: number[] = [];
  private readonly sq: Tensor;
  skipped = 0;

  constructor(model: Module, device: Device) {
    for (const [, m] of model.namedModules()) if (m instanceof BatchNorm2d) this.norms.push(m);
    for (const b of model.buffers()) this.shadows.push({ live: b.value, copy: native.empty(device, b.value.shape, b.value.dtype, b.value.layout) });
    this.sq = native.empty(device, [1], 'float32');
  }

  /** Call before the step's forward pass. */
  save(): void {
    for (const s of this.shadows) native.copy(s.live, s.copy);
    this.tracked = this.norms.map((n) => n.numBatchesTracked);
  }

  /** True when every parameter gradient is finite (one host read). */
  gradientsFinite(params: Param[]): boolean {
    native.fill(this.sq, 0);
    for (const p of params) native.sumSquares(p.grad, this.sq, true);
    return Number.isFinite(native.toArray(this.sq)[0]);
  }

  /** Undoes the step's forward-pass side effects (BatchNorm running statistics). */
  restore(): void {
    for (const s of this.shadows) native.copy(s.copy, s.live);
    this.norms.forEach((n, i) => { n.numBatchesTracked = this.tracked[i]; });
    this.skipped++;
  }

  dispose(): void {
    for (const s of this.shadows) s.copy.dispose();
    this.sq.dispose();
  }
}

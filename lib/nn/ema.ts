// An exponential moving average of a model's weights (Polyak averaging), for evaluation: the average of
// the last few hundred steps' weights often tests better than the last step's, the more so when the
// learning rate is still high. Averaged: every parameter and the BatchNorm running statistics, so the
// averaged network's statistics belong to averaged weights (as timm's ModelEmaV2 and Keller Jordan's
// hlb-cifar10 do). Kept in float32 on the model's device, beside the weights.
//
// The average is updated every `every` optimizer steps with the decay `decay ** every`, so that `decay`
// reads per step whatever `every` is: Page ("How to train your ResNet", 2018) updates every 5 steps
// because one update costs a launch per tensor. Early updates decay less, min(decay ** every,
// (1 + u) / (10 + u)) after u updates (timm's warm-up), so the first epochs' random weights do not linger.
import { native } from '../backend.js';
import { empty, type Tensor } from '../tensor.js';
import type { Module } from './module.js';

export interface WeightAverageOptions {
  /** Per optimizer step, in (0, 1). */
  decay: number;
  /** Optimizer steps between updates (default 5). */
  every?: number;
}

interface Entry { name: string; live: () => Tensor; avg: Tensor; backup: Tensor | null }

export class WeightAverage {
  readonly decay: number;
  readonly every: number;
  /** Updates so far (saved in checkpoints: the warm-up depends on it). */
  updates = 0;
  private entries: Entry[] | null = null;
  private swapped = false;

  constructor(private readonly model: Module, o: WeightAverageOptions) {
    if (!(typeof o.decay === 'number' && o.decay > 0 && o.decay < 1)) throw new RangeError(`WeightAverage: decay must be in (0, 1), got ${o.decay}`);
    const every = o.every ?? 5;
    if (!(Number.isInteger(every) && every >= 1)) throw new RangeError(`WeightAverage: every must be a positive integer, got ${every}`);
    this.decay = o.decay;
    this.every = every;
  }

  /** Names of the averaged tensors (parameters, then buffers), in the model's order. */
  get names(): string[] {
    return this.tensors().map((e) => e.name);
  }

  /** The decay of the next update. */
  nextDecay(): number {
    return Math.min(this.decay ** this.every, (1 + this.updates) / (10 + this.updates));
  }

  /** Call after every optimizer step with the number of steps done: updates the average every `every` steps. */
  afterStep(globalStep: number): void {
    if (globalStep % this.every === 0) this.update();
  }

  /** avg = d·avg + (1 − d)·weights (the first update of a fresh average copies the weights). */
  update(): void {
    this.assertNotSwapped('update');
    const d = this.nextDecay();
    for (const e of this.tensors()) native.axpby(e.live(), e.avg, 1 - d, d);
    this.updates++;
  }

  /** Runs `fn` with the averaged weights in the model, then puts the trained weights back (also when fn throws). */
  withAveraged<T>(fn: () => T): T {
    this.swapIn();
    try {
      return fn();
    } finally {
      this.swapOut();
    }
  }

  /** Sets the average to the model's current weights (a resumed run's saved average, loaded into the model first). */
  resetTo(updates: number): void {
    this.assertNotSwapped('resetTo');
    for (const e of this.tensors()) native.copy(e.live(), e.avg);
    this.updates = updates;
  }

  dispose(): void {
    if (this.swapped) this.swapOut();
    for (const e of this.entries ?? []) {
      e.avg.dispose();
      e.backup?.dispose();
    }
    this.entries = null;
  }

  private swapIn(): void {
    this.assertNotSwapped('withAveraged');
    for (const e of this.tensors()) {
      const live = e.live();
      e.backup ??= empty(live.device, live.shape, 'float32', live.layout);
      native.copy(live, e.backup);
      native.copy(e.avg, live);
    }
    this.swapped = true;
  }

  private swapOut(): void {
    for (const e of this.tensors()) native.copy(e.backup!, e.live());
    this.swapped = false;
  }

  private assertNotSwapped(what: string): void {
    if (this.swapped) throw new Error(`WeightAverage.${what}: the model holds the averaged weights (inside withAveraged)`);
  }

  /** Built on first use, from the model as built on its device; the average starts as the weights. */
  private tensors(): Entry[] {
    if (this.entries) return this.entries;
    const live: Array<{ name: string; get: () => Tensor }> = [
      ...this.model.parameters().map((p) => ({ name: p.name, get: () => p.value })),
      ...this.model.buffers().map((b) => ({ name: b.name, get: () => b.value })),
    ];
    this.entries = live.map(({ name, get }) => {
      const t = get();
      if (t.dtype !== 'float32') throw new TypeError(`WeightAverage: ${name} is ${t.dtype}; only float32 weights and statistics are averaged`);
      const avg = empty(t.device, t.shape, 'float32', t.layout);
      native.copy(t, avg);
      return { name, live: get, avg, backup: null };
    });
    return this.entries;
  }
}

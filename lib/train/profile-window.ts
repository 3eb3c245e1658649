// `--profile` in the training loop: after `warmup` steps, one profiled window of `steps` steps, cut short
// at the end of the epoch it started in (evaluation and checkpoints are not steps) or when the run stops.
import type { Device } from '../backend.js';
import type { Module } from '../nn/module.js';
import { Profiler, type ProfileReport } from '../profile/index.js';

export class ProfileWindow {
  private readonly profiler: Profiler;
  private stepsBefore = 0;
  private done = false;

  constructor(device: Device, model: Module, private readonly warmup: number, private readonly steps: number,
    private readonly onReport: (r: ProfileReport) => void) {
    this.profiler = new Profiler(device, model);
  }

  /** Before a step; `stepsLeftInEpoch` counts this one. The warm-up shrinks to fit the epoch's steps. */
  beforeStep(stepsLeftInEpoch: number): void {
    if (this.done || this.profiler.open) return;
    if (this.stepsBefore >= Math.min(this.warmup, this.stepsBefore + stepsLeftInEpoch - 1)) this.profiler.start();
    else this.stepsBefore++;
  }

  /** After a step (and its loss reading): closes the window after `steps` steps or at the epoch's end. */
  afterStep(endOfEpoch: boolean): void {
    if (!this.profiler.open) return;
    this.profiler.step();
    if (this.profiler.stepCount >= this.steps || endOfEpoch) this.finish();
  }

  /** The run stops (or the loop leaves the epoch early): report what was measured, if anything. */
  finish(): void {
    if (!this.profiler.open) return;
    this.done = true;
    if (this.profiler.stepCount === 0) {
      this.profiler.cancel();
      return;
    }
    this.onReport(this.profiler.stop());
  }

  /** An error left the window open: take the wrappers down without a report. */
  cancel(): void {
    this.done = true;
    this.profiler.cancel();
  }
}

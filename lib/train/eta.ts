// How long this epoch and the whole run have left, from the training loop's ticks (TickEvent): what the
// CLI's bar shows, and what an API user can show the same way (`run.on('tick', (t) => eta.observe(t, now))`).
// Steps cost what the last `windowSeconds` of training cost (the run's first step, which builds the
// primitives, never counts); each epoch end (evaluation, checkpoint, report) costs what the ones so far
// cost on average, measured as wall time minus training time.
import type { TickEvent } from './events.js';

export interface EtaOptions {
  /** Training seconds the step rate is measured over (the latest ones). */
  windowSeconds: number;
  /** No estimate until the window spans this many steps and seconds. */
  minSteps: number;
  minSeconds: number;
}

export const ETA_DEFAULTS: EtaOptions = { windowSeconds: 30, minSteps: 3, minSeconds: 0.5 };

interface Sample { step: number; trainSeconds: number }
interface Seen extends Sample { epoch: number; wall: number }

export interface Eta {
  /** Seconds to the end of this epoch's steps; NaN while unknown. */
  epoch: number;
  /** Seconds to the end of the run, epoch ends included as measured so far; NaN while unknown. */
  run: number;
}

export class RunEta {
  private readonly window: Sample[] = [];
  private first: Seen | null = null;
  private last: (Seen & TickEvent) | null = null;

  constructor(private readonly epochs: number, private readonly o: EtaOptions = ETA_DEFAULTS) {}

  /** A tick, seen at wall time `now` (seconds). */
  observe(t: TickEvent, now: number): void {
    const seen = { ...t, wall: now };
    this.first ??= seen;
    this.last = seen;
    this.window.push({ step: t.step, trainSeconds: t.trainSeconds });
    const from = t.trainSeconds - this.o.windowSeconds;
    while (this.window.length > 2 && this.window[1].trainSeconds <= from) this.window.shift();
  }

  /** Training seconds per step over the window; NaN until it spans enough steps and time. */
  secondsPerStep(): number {
    const a = this.window[0];
    const b = this.window.at(-1);
    if (!a || !b) return NaN;
    const steps = b.step - a.step;
    const seconds = b.trainSeconds - a.trainSeconds;
    return steps >= this.o.minSteps && seconds >= this.o.minSeconds ? seconds / steps : NaN;
  }

  /** Mean wall seconds of an epoch end (what is not training) over those seen; 0 before the first. */
  secondsPerEpochEnd(): number {
    const a = this.first;
    const b = this.last;
    if (!a || !b || b.epoch <= a.epoch) return 0;
    return Math.max(0, (b.wall - a.wall) - (b.trainSeconds - a.trainSeconds)) / (b.epoch - a.epoch);
  }

  /** The estimates at wall time `now`, counting down from the last tick. */
  estimate(now: number): Eta {
    const t = this.last;
    const perStep = this.secondsPerStep();
    if (!t || !Number.isFinite(perStep)) return { epoch: NaN, run: NaN };
    const since = Math.max(0, now - t.wall);
    const epochSteps = t.stepsPerEpoch - t.stepInEpoch;
    const runSteps = epochSteps + (this.epochs - t.epoch) * t.stepsPerEpoch;
    const epochEnds = this.epochs - t.epoch + 1;
    return {
      epoch: Math.max(0, epochSteps * perStep - since),
      run: Math.max(0, runSteps * perStep + epochEnds * this.secondsPerEpochEnd() - since),
    };
  }
}

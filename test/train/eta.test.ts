// The epoch and run ETAs from the loop's ticks, on made-up runs with known step costs and epoch ends.
import { describe, expect, it } from 'vitest';
import { RunEta } from '../../lib/train/eta.js';
import type { TickEvent } from '../../lib/train/events.js';

interface Sim {
  epochs: number;
  stepsPerEpoch: number;
  /** Seconds of training of each (global, 1-based) step. */
  stepSeconds: (step: number) => number;
  /** Wall seconds after each epoch's last step (evaluation, checkpoint, report). */
  endSeconds: number;
  /** A tick every this many steps (and after the first). */
  every: number;
  /** A resumed run starts after this global step. */
  startStep?: number;
}

/** Feeds a simulated run's ticks to a RunEta until `until(tick)`; returns it and that tick's wall time. */
function runUntil(s: Sim, until: (t: TickEvent) => boolean): { eta: RunEta; wall: number } {
  const eta = new RunEta(s.epochs);
  let wall = 1000;
  let train = 0;
  const first = (s.startStep ?? 0) + 1;
  for (let step = first; step <= s.epochs * s.stepsPerEpoch; step++) {
    wall += s.stepSeconds(step);
    train += s.stepSeconds(step);
    const epoch = Math.ceil(step / s.stepsPerEpoch);
    const stepInEpoch = step - (epoch - 1) * s.stepsPerEpoch;
    if (step === first || step % s.every === 0) {
      const tick = { epoch, step, stepInEpoch, stepsPerEpoch: s.stepsPerEpoch, trainSeconds: train };
      eta.observe(tick, wall);
      if (until(tick)) return { eta, wall };
    }
    if (stepInEpoch === s.stepsPerEpoch) wall += s.endSeconds;
  }
  throw new Error('the simulated run ended first');
}

const at = (epoch: number, stepInEpoch: number) => (t: TickEvent) => t.epoch === epoch && t.stepInEpoch === stepInEpoch;

describe('RunEta', () => {
  it('knows nothing from one tick, nor from fewer than 3 steps or half a second of training', () => {
    const eta = new RunEta(2);
    const t = { epoch: 1, step: 1, stepInEpoch: 1, stepsPerEpoch: 10, trainSeconds: 1 };
    eta.observe(t, 10);
    expect(eta.estimate(10)).toEqual({ epoch: NaN, run: NaN });
    eta.observe({ ...t, step: 3, stepInEpoch: 3, trainSeconds: 1.2 }, 10.2);
    expect(eta.estimate(10.2).epoch).toBeNaN(); // 2 steps
    eta.observe({ ...t, step: 9, stepInEpoch: 9, trainSeconds: 1.3 }, 10.3);
    expect(eta.estimate(10.3).epoch).toBeNaN(); // 0.3 s
    eta.observe({ ...t, step: 10, stepInEpoch: 10, trainSeconds: 1.6 }, 10.6);
    expect(eta.estimate(10.6)).toEqual({ epoch: 0, run: expect.closeTo((10 * 0.6) / 9, 9) });
  });

  it('leaves out the first step (primitives being built) and counts the epoch and the run at the steps\' rate', () => {
    const sim: Sim = { epochs: 3, stepsPerEpoch: 100, stepSeconds: (s) => (s === 1 ? 5 : 0.1), endSeconds: 0, every: 5 };
    const { eta, wall } = runUntil(sim, at(1, 50));
    expect(eta.secondsPerStep()).toBeCloseTo(0.1, 9);
    expect(eta.secondsPerEpochEnd()).toBe(0);
    const e = eta.estimate(wall);
    expect(e.epoch).toBeCloseTo(50 * 0.1, 9);
    expect(e.run).toBeCloseTo(250 * 0.1, 9);
  });

  it('adds the epoch ends left at their measured mean, once one has been seen', () => {
    const sim: Sim = { epochs: 3, stepsPerEpoch: 100, stepSeconds: () => 0.1, endSeconds: 4, every: 5 };
    const before = runUntil(sim, at(1, 100));
    expect(before.eta.estimate(before.wall).run).toBeCloseTo(200 * 0.1, 9); // no epoch end measured yet
    const { eta, wall } = runUntil(sim, at(2, 50));
    expect(eta.secondsPerEpochEnd()).toBeCloseTo(4, 9);
    const e = eta.estimate(wall);
    expect(e.epoch).toBeCloseTo(5, 9);
    expect(e.run).toBeCloseTo(150 * 0.1 + 2 * 4, 9); // epoch 2's end and epoch 3's
    const last = runUntil(sim, at(3, 100));
    expect(last.eta.estimate(last.wall)).toEqual({ epoch: 0, run: expect.closeTo(4, 9) });
  });

  it('counts down between ticks, never below zero', () => {
    const sim: Sim = { epochs: 2, stepsPerEpoch: 100, stepSeconds: () => 0.1, endSeconds: 1, every: 10 };
    const { eta, wall } = runUntil(sim, at(2, 50));
    const e = eta.estimate(wall);
    expect(eta.estimate(wall + 2)).toEqual({ epoch: expect.closeTo(e.epoch - 2, 9), run: expect.closeTo(e.run - 2, 9) });
    expect(eta.estimate(wall + 1000)).toEqual({ epoch: 0, run: 0 });
  });

  it('follows a change of speed within the window (30 s of training)', () => {
    const sim: Sim = { epochs: 10, stepsPerEpoch: 1000, stepSeconds: (s) => (s <= 1000 ? 0.1 : 0.2), endSeconds: 0, every: 10 };
    const early = runUntil(sim, at(2, 100)); // 100 slow steps (20 s) and the rest of the window fast
    expect(early.eta.secondsPerStep()).toBeGreaterThan(0.1);
    expect(early.eta.secondsPerStep()).toBeLessThan(0.2);
    const late = runUntil(sim, at(2, 300)); // 60 s of slow steps
    expect(late.eta.secondsPerStep()).toBeCloseTo(0.2, 9);
  });

  it('estimates a resumed run from where it starts', () => {
    const sim: Sim = { epochs: 4, stepsPerEpoch: 100, stepSeconds: () => 0.5, endSeconds: 0, every: 1, startStep: 230 };
    const { eta, wall } = runUntil(sim, at(3, 40));
    expect(eta.estimate(wall)).toEqual({ epoch: expect.closeTo(60 * 0.5, 9), run: expect.closeTo(160 * 0.5, 9) });
  });
});

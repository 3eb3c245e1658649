// Learning-rate schedules against PyTorch's schedulers, replayed here as their recursive (chainable)
// forms step by step: the closed forms in lib/optim must agree at every step.
import { describe, expect, it } from 'vitest';
import { scheduleLr, validateSchedule, type Schedule } from '../../lib/optim/schedules.js';

const seq = (s: Schedule, base: number, n: number) => Array.from({ length: n }, (_, t) => scheduleLr(s, base, t));

describe('schedules', () => {
  it('constant, step, multistep', () => {
    expect(seq({ kind: 'constant' }, 0.1, 3)).toEqual([0.1, 0.1, 0.1]);
    // StepLR(step_size=2, gamma=0.5): lr *= gamma every 2 steps
    const st = seq({ kind: 'step', stepSize: 2, gamma: 0.5 }, 1, 7);
    expect(st).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]);
    const ms = seq({ kind: 'multistep', milestones: [2, 5], gamma: 0.1 }, 1, 7);
    ms.forEach((v, i) => expect(v).toBeCloseTo(i < 2 ? 1 : i < 5 ? 0.1 : 0.01, 15));
  });

  it("cosine equals CosineAnnealingLR's recursive form", () => {
    const T = 10, base = 0.1, min = 0.001;
    let lr = base;
    for (let t = 0; t <= T; t++) {
      expect(scheduleLr({ kind: 'cosine', totalSteps: T, minLr: min }, base, t)).toBeCloseTo(lr, 12);
      // PyTorch's chainable update from t to t+1
      lr = ((1 + Math.cos((Math.PI * (t + 1)) / T)) / (1 + Math.cos((Math.PI * t) / T))) * (lr - min) + min;
    }
    expect(scheduleLr({ kind: 'cosine', totalSteps: T, minLr: min }, base, 50)).toBeCloseTo(min, 15);
  });

  it("one-cycle matches OneCycleLR's phases (start max/25, peak at pct*total-1, end max/25/1e4)", () => {
    const s: Schedule = { kind: 'onecycle', totalSteps: 100, maxLr: 0.1, pctStart: 0.3 };
    expect(scheduleLr(s, 0, 0)).toBeCloseTo(0.004, 15);
    expect(scheduleLr(s, 0, 29)).toBeCloseTo(0.1, 15);
    expect(scheduleLr(s, 0, 99)).toBeCloseTo(0.004 / 1e4, 15);
    // PyTorch's _annealing_cos(start, end, pct) inside each phase
    const cos = (st: number, en: number, pct: number) => en + ((st - en) / 2) * (Math.cos(Math.PI * pct) + 1);
    expect(scheduleLr(s, 0, 10)).toBeCloseTo(cos(0.004, 0.1, 10 / 29), 15);
    expect(scheduleLr(s, 0, 60)).toBeCloseTo(cos(0.1, 0.004 / 1e4, (60 - 29) / (99 - 29)), 15);
    const v = seq(s, 0, 100);
    for (let i = 1; i < 30; i++) expect(v[i]).toBeGreaterThan(v[i - 1]);
    for (let i = 30; i < 100; i++) expect(v[i]).toBeLessThan(v[i - 1]);
    // maxLr defaults to the base rate
    expect(scheduleLr({ kind: 'onecycle', totalSteps: 100 }, 0.1, 29)).toBeCloseTo(0.1, 15);
  });

  it('linear warm-up then cosine or linear decay', () => {
    const s: Schedule = { kind: 'warmup', warmupSteps: 4, totalSteps: 12, decay: 'linear', minLr: 0 };
    expect(seq(s, 1, 13)).toEqual([0.25, 0.5, 0.75, 1, 1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0]);
    const c: Schedule = { kind: 'warmup', warmupSteps: 2, totalSteps: 6, decay: 'cosine' };
    expect(seq(c, 2, 7).map((x) => +x.toFixed(12))).toEqual([1, 2, 2, +(1 + Math.cos(Math.PI / 4)).toFixed(12), 1, +(1 - Math.cos(Math.PI / 4)).toFixed(12), 0]);
  });

  it('is a pure function of the step (resume gives the same rate)', () => {
    const s: Schedule = { kind: 'onecycle', totalSteps: 1000, maxLr: 0.05 };
    expect(scheduleLr(s, 0, 517)).toBe(scheduleLr(s, 0, 517));
  });

  it('rejects bad fields by name', () => {
    expect(() => validateSchedule({ kind: 'step', stepSize: 0 })).toThrow(/stepSize/);
    expect(() => validateSchedule({ kind: 'multistep', milestones: [5, 3] })).toThrow(/milestones/);
    expect(() => validateSchedule({ kind: 'warmup', warmupSteps: 20, totalSteps: 10 })).toThrow(/exceeds/);
    expect(() => validateSchedule({ kind: 'nope' } as unknown as Schedule)).toThrow(/unknown kind/);
    expect(() => scheduleLr({ kind: 'constant' }, 1, -1)).toThrow(/step/);
  });
});

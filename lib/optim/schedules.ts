// Learning-rate schedules as pure functions of the step (or epoch: the caller chooses the unit), so a
// resumed run computes the same rate from its restored step count. Closed forms of PyTorch's
// StepLR, MultiStepLR, CosineAnnealingLR, OneCycleLR (cos) and a linear warm-up then decay.
export type Schedule =
  | { kind: 'constant' }
  | { kind: 'step'; stepSize: number; gamma?: number }
  | { kind: 'multistep'; milestones: number[]; gamma?: number }
  | { kind: 'cosine'; totalSteps: number; minLr?: number }
  | { kind: 'onecycle'; totalSteps: number; maxLr?: number; pctStart?: number; divFactor?: number; finalDivFactor?: number }
  | { kind: 'warmup'; warmupSteps: number; totalSteps: number; decay?: 'cosine' | 'linear' | 'constant'; startFactor?: number; minLr?: number };

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`schedule: ${name} must be a positive integer, got ${v}`);
}

/** Checks a schedule's fields; throws RangeError naming the bad one. */
export function validateSchedule(s: Schedule): void {
  switch (s.kind) {
    case 'constant': return;
    case 'step': positiveInt('stepSize', s.stepSize); return;
    case 'multistep':
      if (!Array.isArray(s.milestones) || s.milestones.some((m, i) => !Number.isInteger(m) || m < 0 || (i > 0 && m <= s.milestones[i - 1]))) {
        throw new RangeError(`schedule: milestones must be increasing non-negative integers, got ${JSON.stringify(s.milestones)}`);
      }
      return;
    case 'cosine': positiveInt('totalSteps', s.totalSteps); return;
    case 'onecycle': {
      positiveInt('totalSteps', s.totalSteps);
      const pct = s.pctStart ?? 0.3;
      if (!(pct > 0 && pct < 1)) throw new RangeError(`schedule: pctStart must be in (0, 1), got ${pct}`);
      return;
    }
    case 'warmup':
      if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0) throw new RangeError(`schedule: warmupSteps must be a non-negative integer, got ${s.warmupSteps}`);
      positiveInt('totalSteps', s.totalSteps);
      if (s.warmupSteps > s.totalSteps) throw new RangeError(`schedule: warmupSteps (${s.warmupSteps}) exceeds totalSteps (${s.totalSteps})`);
      return;
    default:
      throw new RangeError(`schedule: unknown kind '${String((s as { kind: unknown }).kind)}'`);
  }
}

const cosAnneal = (start: number, end: number, pct: number): number => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);

/** The learning rate at `step` (0-based: the rate used by the step-th update) for base rate `baseLr`. */
export function scheduleLr(s: Schedule, baseLr: number, step: number): number {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`scheduleLr: step must be a non-negative integer, got ${step}`);
  switch (s.kind) {
    case 'constant':
      return baseLr;
    case 'step':
      return baseLr * (s.gamma ?? 0.1) ** Math.floor(step / s.stepSize);
    case 'multistep':
      return baseLr * (s.gamma ?? 0.1) ** s.milestones.filter((m) => m <= step).length;
    case 'cosine': {
      const t = Math.min(step, s.totalSteps);
      return cosAnneal(baseLr, s.minLr ?? 0, t / s.totalSteps);
    }
    case 'onecycle': {
      // torch.optim.lr_scheduler.OneCycleLR with anneal_strategy='cos', three_phase=False.
      const maxLr = s.maxLr ?? baseLr;
      const initial = maxLr / (s.divFactor ?? 25);
      const min = initial / (s.finalDivFactor ?? 1e4);
      const end1 = (s.pctStart ?? 0.3) * s.totalSteps - 1;
      const end2 = s.totalSteps - 1;
      const t = Math.min(step, end2);
      if (t <= end1) return cosAnneal(initial, maxLr, end1 <= 0 ? 1 : t / end1);
      return cosAnneal(maxLr, min, (t - end1) / (end2 - end1));
    }
    case 'warmup': {
      const start = s.startFactor ?? 0;
      const min = s.minLr ?? 0;
      if (step < s.warmupSteps) return baseLr * (start + ((1 - start) * (step + 1)) / s.warmupSteps);
      const span = s.totalSteps - s.warmupSteps;
      const pct = span <= 0 ? 1 : Math.min(1, (step - s.warmupSteps) / span);
      const decay = s.decay ?? 'cosine';
      if (decay === 'constant') return baseLr;
      if (decay === 'linear') return baseLr + (min - baseLr) * pct;
      return cosAnneal(baseLr, min, pct);
    }
  }
}

// Multi-seed summaries of recipe runs: seconds of training to reach each accuracy threshold, the final
// accuracy as mean and spread, and the Markdown table bench/time-to-accuracy.ts prints last.
import type { RunLine, TtaName } from './protocol.js';

export const THRESHOLDS: readonly number[] = [0.9, 0.93, 0.94];

export interface RunResult {
  candidate: string;
  impl: string;
  seed: number;
  /** 'ok', or why the run has fewer epochs than asked (error, cut at the time budget). */
  status: string;
  /** The recipe's own evaluation mode (what the per-epoch figures used). */
  tta: TtaName;
  epochs: Array<{ epoch: number; trainSeconds: number; testAccuracy: number }>;
  final: Record<TtaName, number> | null;
}

export interface Spread { n: number; mean: number; std: number; min: number; max: number }

/** Mean, sample standard deviation (0 for one value), min and max; NaN everywhere for no values. */
export function spread(values: number[]): Spread {
  const n = values.length;
  if (n === 0) return { n, mean: NaN, std: NaN, min: NaN, max: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, std, min: Math.min(...values), max: Math.max(...values) };
}

/** Training seconds at the end of the first epoch whose test accuracy reached `threshold`, or null. */
export function secondsToReach(r: RunResult, threshold: number): number | null {
  return r.epochs.find((e) => e.testAccuracy >= threshold)?.trainSeconds ?? null;
}

/** Folds a run's protocol lines into a result. */
export function runResult(candidate: string, impl: string, seed: number, lines: RunLine[], status: string, tta?: TtaName): RunResult {
  const start = lines.find((l) => l.kind === 'start');
  const opts = start?.kind === 'start' ? start.options : {};
  const epochs = lines.flatMap((l) => (l.kind === 'epoch' ? [{ epoch: l.epoch, trainSeconds: l.trainSeconds, testAccuracy: l.testAccuracy }] : []));
  const fin = lines.find((l) => l.kind === 'final');
  const err = lines.find((l) => l.kind === 'error');
  return { candidate, impl: start?.kind === 'start' ? start.impl : impl, seed, tta: opts.tta === 'flip' || (!start && tta === 'flip') ? 'flip' : 'none', epochs,
    final: fin?.kind === 'final' ? fin.accuracy : null, status: err?.kind === 'error' ? `error: ${err.message}` : status };
}

export interface Row {
  candidate: string;
  impl: string;
  runs: number;
  tta: TtaName;
  /** Final accuracy in the recipe's mode, and both modes. */
  final: Spread;
  finalNone: Spread;
  finalFlip: Spread;
  /** Per threshold: seconds over the runs that reached it, and how many did. */
  reach: Array<{ threshold: number; seconds: Spread; reached: number }>;
  trainSeconds: Spread;
  notes: string[];
}

export function summarize(results: RunResult[], thresholds: readonly number[] = THRESHOLDS): Row[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of results) {
    const k = `${r.candidate}\u0000${r.impl.split(' ')[0]}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    const done = rs.filter((r) => r.final);
    return {
      candidate: rs[0].candidate,
      impl: rs[0].impl,
      runs: rs.length,
      tta: rs[0].tta,
      final: spread(done.map((r) => r.final![r.tta])),
      finalNone: spread(done.map((r) => r.final!.none)),
      finalFlip: spread(done.map((r) => r.final!.flip)),
      reach: thresholds.map((t) => {
        const s = rs.map((r) => secondsToReach(r, t)).filter((v): v is number => v !== null);
        return { threshold: t, seconds: spread(s), reached: s.length };
      }),
      trainSeconds: spread(done.map((r) => r.epochs.at(-1)?.trainSeconds ?? NaN)),
      notes: rs.filter((r) => r.status !== 'ok').map((r) => `seed ${r.seed}: ${r.status}`),
    };
  });
}

const pct = (s: Spread) => (s.n === 0 ? '–' : s.n === 1 ? `${(100 * s.mean).toFixed(2)}` : `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}`);
const secs = (s: Spread) => (s.n === 0 ? '–' : s.n === 1 ? s.mean.toFixed(1) : `${s.mean.toFixed(1)} ± ${s.std.toFixed(1)}`);

/** The table: one row per (candidate, implementation); accuracies in %, times in seconds of training. */
export function formatTable(rows: Row[]): string {
  const head = ['candidate', 'impl', 'runs', 'final % (recipe\'s TTA)', 'final % no TTA', 'final % flip TTA',
    ...(rows[0]?.reach ?? THRESHOLDS.map((threshold) => ({ threshold }))).map((x) => `s to ${+(100 * x.threshold).toFixed(1)}% (reached)`), 'train s'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    lines.push(`| ${r.candidate} | ${r.impl} | ${r.finalNone.n}/${r.runs} | ${pct(r.final)} (${r.tta}) | ${pct(r.finalNone)} | ${pct(r.finalFlip)} | ` +
      `${r.reach.map((x) => `${secs(x.seconds)} (${x.reached}/${r.runs})`).join(' | ')} | ${secs(r.trainSeconds)} |`);
  }
  const notes = rows.flatMap((r) => r.notes.map((n) => `- ${r.candidate} (${r.impl}) ${n}`));
  return [...lines, ...(notes.length ? ['', ...notes] : [])].join('\n');
}

// How much of the CPU other processes took while we timed something: a timing taken on a busy machine
// says more about the neighbours than about the kernels (on a shared 2-core machine, bf16 measured
// anywhere from 0.77x to 4.6x fp32 under loads of 5-17, against 1.56x quiet), so such a timing is not kept.
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ, the unit of /proc/stat: 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

interface Stat { total: number; busy: number; cpus: number }
interface Sample extends Stat { oursUs: number }

/** /proc/stat's first line, all CPUs' ticks (user nice system idle iowait irq softirq steal …), and the
 *  number of CPUs it sums (its cpuN lines). */
export function parseProcStat(text: string): Stat | null {
  const m = /^cpu\s+(.*)$/m.exec(text);
  if (!m) return null;
  const v = m[1].trim().split(/\s+/).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return null;
  // guest and guest_nice (9th, 10th) are already counted in user and nice
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = v[3] + (v[4] ?? 0);
  const cpus = (text.match(/^cpu\d+\s/gm) ?? []).length;
  return cpus > 0 ? { total, busy: total - idle, cpus } : null;
}

function sample(): Sample | null {
  let stat: Stat | null;
  try {
    stat = parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
  if (!stat) return null;
  const u = process.cpuUsage();
  return { ...stat, oursUs: u.user + u.system };
}

/** The share of our `threads` cores that other processes took between two samples: their CPU time
 *  beyond the cores we left free, over the time our threads had. 0 on a quiet machine. */
export function contentionBetween(a: Sample, b: Sample, threads: number): number {
  const cores = b.cpus;
  const elapsed = (b.total - a.total) / cores;  // ticks of wall time
  if (elapsed <= 0) return 0;
  const ours = ((b.oursUs - a.oursUs) / 1e6) * TICKS_PER_SECOND;
  const othersCores = Math.max(0, b.busy - a.busy - ours) / elapsed;
  const free = Math.max(0, cores - threads);
  return Math.min(1, Math.max(0, othersCores - free) / Math.max(1, Math.min(threads, cores)));
}

/** Starts watching; the function returned gives the contention since (null where /proc/stat is not). */
export function watchContention(threads: number): () => number | null {
  const start = sample();
  return () => {
    const end = start && sample();
    return start && end ? contentionBetween(start, end, threads) : null;
  };
}

// The machine's measured fp32 FMA peak (bench/peak.c, compiled here at run time with -march=native),
// for the "fraction of peak" columns of the benchmarks.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../lib/backend.js';

/** Best-of-5 fp32 FMA GFLOP/s of bench/peak.c with n threads, or NaN without a C compiler. */
export function measurePeak(threads: number[]): Map<number, number> {
  const out = new Map<number, number>();
  const dir = mkdtempSync(join(tmpdir(), 'vgg-peak-'));
  const exe = join(dir, 'peak');
  try {
    try {
      execFileSync('cc', ['-O2', '-march=native', '-fopenmp', join(packageRoot(), 'bench', 'peak.c'), '-o', exe], { stdio: 'pipe' });
    } catch (e) {
      console.error(`peak: cannot compile bench/peak.c (${(e as Error).message.split('\n')[0]}); fractions of peak left out`);
      for (const t of threads) out.set(t, NaN);
      return out;
    }
    for (const t of threads) out.set(t, JSON.parse(execFileSync(exe, [String(t), '0.4'], { encoding: 'utf8' })).gflops);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

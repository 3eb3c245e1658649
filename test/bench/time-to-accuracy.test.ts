// bench/time-to-accuracy: the multi-seed summary on made-up runs, and the whole pipeline on generated
// data on the CPU (tiny model, two epochs, two seeds; the PyTorch side runs where this machine's python3
// imports torch and says it skipped where it does not).
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../lib/backend.js';
import { formatTable, runResult, secondsToReach, spread, summarize, type RunResult } from '../../bench/recipes/summary.js';
import { parseRunLines } from '../../bench/recipes/protocol.js';
import { pythonWithTorch } from '../../bench/python.js';
import { tempDir } from '../data/fixtures.js';
import { writeLearnableDataset } from '../train/fixtures.js';

const run = (seed: number, accs: number[], final: [number, number] | null, status = 'ok'): RunResult => ({
  candidate: 'fast', impl: 'vgg-cifar', seed, status, tta: 'none',
  epochs: accs.map((a, i) => ({ epoch: i + 1, trainSeconds: 10 * (i + 1) + seed, testAccuracy: a })), final: final && { none: final[0], flip: final[1] },
});

describe('time-to-accuracy summary', () => {
  it('spread: mean, sample standard deviation, min, max', () => {
    expect(spread([0.9, 0.92, 0.94])).toEqual({ n: 3, mean: expect.closeTo(0.92, 12), std: expect.closeTo(0.02, 12), min: 0.9, max: 0.94 });
    expect(spread([0.5])).toMatchObject({ n: 1, mean: 0.5, std: 0 });
    expect(spread([]).mean).toBeNaN();
  });

  it('seconds to a threshold are those of the first epoch that reached it; the table shows mean ± std and how many reached', () => {
    const rs = [run(0, [0.8, 0.91, 0.935], [0.935, 0.94]), run(1, [0.85, 0.89, 0.925], [0.925, 0.93]), run(2, [0.7], null, 'cut at the time budget')];
    expect(secondsToReach(rs[0], 0.9)).toBe(20);
    expect(secondsToReach(rs[1], 0.9)).toBe(31);
    expect(secondsToReach(rs[1], 0.93)).toBeNull();
    const [row] = summarize(rs);
    expect(row.runs).toBe(3);
    expect(row.final.n).toBe(2);
    expect(row.final.mean).toBeCloseTo(0.93, 12);
    expect(row.finalFlip.mean).toBeCloseTo(0.935, 12);
    expect(row.reach.map((x) => x.reached)).toEqual([2, 1, 0]);
    expect(row.reach[0].seconds.mean).toBeCloseTo(25.5, 12);
    const t = formatTable([row]);
    expect(t).toContain('| fast | vgg-cifar | 2/3 | 93.00 ± 0.71 (none) | 93.00 ± 0.71 | 93.50 ± 0.71 | 25.5 ± 7.8 (2/3) | 30.0 (1/3) | – (0/3) |');
    expect(t).toContain('- fast (vgg-cifar) seed 2: cut at the time budget');
  });

  it('parses run lines among other output, and an error line marks the run', () => {
    const lines = parseRunLines('warning: x\n{"kind":"start","impl":"pytorch 2.1","device":"cpu","options":{"tta":"flip"}}\n{"kind":"epoch","epoch":1,"trainSeconds":2,"testAccuracy":0.5,"tta":"flip"}\n{broken\n{"kind":"error","message":"boom"}\n');
    const r = runResult('speed', 'pytorch', 0, lines, 'exit 1');
    expect(r).toMatchObject({ impl: 'pytorch 2.1', tta: 'flip', status: 'error: boom', final: null });
    expect(r.epochs).toEqual([{ epoch: 1, trainSeconds: 2, testAccuracy: 0.5 }]);
  });
});

describe('bench/time-to-accuracy.js end to end on the CPU', () => {
  const data = writeLearnableDataset(tempDir('tta-bench'), 64);
  const script = join(packageRoot(), 'dist', 'bench', 'time-to-accuracy.js');
  const bench = (out: string, extra: string[]) => spawnSync(process.execPath, [script, '--data', data, '--out', out, '--backend', 'cpu',
    '--width-divisor', '16', '--epochs', '2', '--limit', '96', '--test-limit', '64', '--threads', '2', ...extra], { encoding: 'utf8', timeout: 900_000 });

  it('trains two candidates x two seeds (and PyTorch where torch imports), writes every run and the table last', () => {
    const out = join(tempDir('tta-out'), 'sweep');
    const torch = pythonWithTorch();
    const r = bench(out, ['--recipes', 'fast,speed-tf32', '--seeds', '2', '--thresholds', '5,99.9', '--pytorch', 'speed-tf32']);
    expect(r.status, r.stderr).toBe(0);
    const table = readFileSync(join(out, 'table.md'), 'utf8');
    expect(r.stdout.trimEnd().endsWith(table.trimEnd())).toBe(true);
    expect(table).toMatch(/^\| fast \| vgg-cifar \| 2\/2 \| [\d.]+ ± [\d.]+ \(none\) \|/m);
    expect(table).toMatch(/^\| speed-tf32 \| vgg-cifar \| 2\/2 \| [\d.]+ ± [\d.]+ \(flip\) \|/m);
    // 5% is reached in the first epoch by any model on 10 classes; 99.9% by none
    expect(table).toMatch(/^\| fast \| vgg-cifar \|.*\| [\d.]+ ± [\d.]+ \(2\/2\) \| – \(0\/2\) \|/m);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { results: RunResult[] };
    const ours = summary.results.filter((x) => x.impl === 'vgg-cifar');
    expect(ours).toHaveLength(4);
    for (const x of ours) {
      expect(x.status).toBe('ok');
      expect(x.epochs.map((e) => e.epoch)).toEqual([1, 2]);
      expect(x.epochs[1].trainSeconds).toBeGreaterThan(x.epochs[0].trainSeconds);
      expect(x.final!.none).toBeGreaterThanOrEqual(0);
      // the recipe's own mode is the last epoch's figure
      expect(x.final![x.tta]).toBe(x.epochs[1].testAccuracy);
    }
    expect(ours.map((x) => `${x.candidate}.${x.seed}`)).toEqual(['fast.0', 'speed-tf32.0', 'fast.1', 'speed-tf32.1']);
    const files = readdirSync(join(out, 'runs'));
    expect(files).toContain('fast.seed1.vgg-cifar.jsonl');
    if ('py' in torch) {
      const pt = summary.results.filter((x) => x.impl.startsWith('pytorch'));
      expect(pt.map((x) => [x.candidate, x.status, x.epochs.length])).toEqual([['speed-tf32', 'ok', 2], ['speed-tf32', 'ok', 2]]);
      expect(table).toMatch(/^\| speed-tf32 \| pytorch [^|]+\| 2\/2 \|/m);
    } else {
      expect(r.stdout).toMatch(/the PyTorch side is SKIPPED: no python3 here imports torch/);
      expect(table).not.toMatch(/pytorch/);
    }
  }, 900_000);

  it('stops at --budget-s: the run going on is cut, later ones are not started, the table is still written', () => {
    const out = join(tempDir('tta-budget'), 'sweep');
    const r = bench(out, ['--recipes', 'fast', '--seeds', '2', '--pytorch', 'none', '--budget-s', '1', '--epochs', '50']);
    expect(r.status, r.stderr).toBe(0);
    const table = readFileSync(join(out, 'table.md'), 'utf8');
    expect(table).toContain('seed 0: cut at the time budget');
    expect(table).toContain('seed 1: not run: past the time budget');
  });

  it('a SIGTERM to the benchmark ends the training run it started (no orphan), and the table is still written', async () => {
    const out = join(tempDir('tta-term'), 'sweep');
    const child = spawn(process.execPath, [script, '--data', data, '--out', out, '--backend', 'cpu', '--width-divisor', '16', '--epochs', '50',
      '--recipes', 'fast', '--seeds', '2', '--pytorch', 'none'], { stdio: 'ignore' });
    const runFile = join(out, 'runs', 'fast.seed0.vgg-cifar.jsonl');
    for (let i = 0; i < 600 && !(existsSync(runFile) && readFileSync(runFile, 'utf8').includes('"start"')); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(code).toBe(130);
    const left = spawnSync('pgrep', ['-f', out], { encoding: 'utf8' }).stdout.trim();
    expect(left).toBe('');
    const table = readFileSync(join(out, 'table.md'), 'utf8');
    expect(table).toMatch(/seed 0: exit .*SIGTERM|seed 0: exit null/);
    expect(table).not.toContain('seed 1');
  });

  it('refuses an unknown candidate and a folder that already holds results', () => {
    const out = join(tempDir('tta-refuse'), 'sweep');
    expect(bench(out, ['--recipes', 'fastest']).stderr).toMatch(/unknown candidate 'fastest'; known: report, fast, speed,/);
    const full = tempDir('tta-full');
    writeLearnableDataset(full, 1);
    expect(bench(full, ['--recipes', 'fast']).stderr).toMatch(/is not empty: choose a new folder/);
  });
});

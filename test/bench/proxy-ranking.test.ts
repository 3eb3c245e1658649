// bench/recipes/ranking.ts and bench/proxy-ranking.ts: ranks, Kendall agreement, which runs count, and
// the command on folders as time-to-accuracy writes them (plus the committed CPU proxy figures).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agreement, formatRanking, rankedSet, ranks } from '../../bench/recipes/ranking.js';
import { readResults } from '../../bench/proxy-ranking.js';
import type { RunResult } from '../../bench/recipes/summary.js';
import { CANDIDATES } from '../../bench/recipes/candidates.js';
import { tempDir } from '../data/fixtures.js';

const run = (candidate: string, seed: number, none: number, over: Partial<RunResult> = {}): RunResult =>
  ({ candidate, impl: 'vgg-cifar', seed, status: 'ok', tta: 'none', epochs: [], final: { none, flip: none + 0.01 }, ...over });

describe('proxy ranking', () => {
  it('means over seeds, ranks (ties share the better rank), and counts only finished vgg-cifar runs', () => {
    const s = rankedSet('x', [run('a', 0, 0.8), run('a', 1, 0.82), run('b', 0, 0.9), run('c', 0, 0.81),
      run('b', 1, 0.1, { status: 'cut at the budget' }), run('c', 1, 0.99, { impl: 'pytorch' }), run('d', 0, 0.5, { final: null })]);
    expect(s.byCandidate.get('a')!.mean).toBeCloseTo(0.81, 12);
    expect(s.byCandidate.get('a')!.n).toBe(2);
    expect(s.byCandidate.get('b')!.n).toBe(1);
    expect(s.byCandidate.has('d')).toBe(false);
    expect(Object.fromEntries(ranks(s, ['a', 'b', 'c']))).toEqual({ a: 1 + 1, b: 1, c: 2 });
  });

  it("Kendall agreement: 1 when the orders match, -1 when reversed, ties counted apart; only the candidates both sets have", () => {
    const ref = rankedSet('ref', [run('a', 0, 0.9), run('b', 0, 0.8), run('c', 0, 0.7)]);
    expect(agreement(rankedSet('p', [run('a', 0, 0.6), run('b', 0, 0.5), run('c', 0, 0.4), run('z', 0, 0.99)]), ref))
      .toEqual({ pairs: 3, concordant: 3, discordant: 0, ties: 0, tau: 1 });
    expect(agreement(rankedSet('p', [run('a', 0, 0.4), run('b', 0, 0.5), run('c', 0, 0.6)]), ref).tau).toBe(-1);
    expect(agreement(rankedSet('p', [run('a', 0, 0.5), run('b', 0, 0.5), run('c', 0, 0.1)]), ref))
      .toEqual({ pairs: 3, concordant: 2, discordant: 0, ties: 1, tau: 2 / 3 });
    const table = formatRanking([rankedSet('p', [run('a', 0, 0.4), run('b', 0, 0.5)]), ref], ref);
    expect(table).toContain('| c | – | – | 70.00 (1) | 3 |');
    expect(table).toContain('p against ref: 0 of 1 pairs ordered alike, 1 reversed, 0 tied; Kendall tau -1.00');
  });

  it('the command ranks time-to-accuracy folders beside the committed CPU proxy figures and writes the table', () => {
    const dir = tempDir('ranking');
    for (const [name, values] of [['w4', [0.84, 0.86]], ['w1', [0.88, 0.9]]] as const) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'summary.json'), JSON.stringify({ results: [run('fast-b128-lr0.02', 0, values[0]), run('fast-tf32', 0, values[1])] }));
    }
    const out = join(dir, 'ranking.md');
    const r = spawnSync(process.execPath, ['dist/bench/proxy-ranking.js', '--sets',
      `cpu-w4=bench/recipes/cpu-proxy-results.json,gpu-w4=${join(dir, 'w4')},gpu-w1=${join(dir, 'w1')}`, '--reference', 'gpu-w1', '--out', out], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // the CPU column as the committed figures give it (more are added as they are measured)
    const cpu = rankedSet('cpu-w4', readResults('bench/recipes/cpu-proxy-results.json'));
    const f = cpu.byCandidate.get('fast-tf32')!;
    const cpuCell = `${(100 * f.mean).toFixed(2)} ± ${(100 * f.std).toFixed(2)} (${f.n}) | ${ranks(cpu, [...cpu.byCandidate.keys()]).get('fast-tf32')}`;
    expect(r.stdout).toContain(`| fast-tf32 | ${cpuCell} | 86.00 (1) | 1 | 90.00 (1) | 1 |`);
    expect(r.stdout).toContain('cpu-w4 against gpu-w1: 1 of 1 pairs ordered alike');
    const bad = spawnSync(process.execPath, ['dist/bench/proxy-ranking.js', '--sets', `a=${join(dir, 'none')}`, '--reference', 'a'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('does not exist');
  });

  it('the committed CPU proxy figures name known candidates and finished runs', () => {
    const results = readResults('bench/recipes/cpu-proxy-results.json');
    expect(results.length).toBeGreaterThanOrEqual(6);
    for (const r of results) {
      expect(CANDIDATES.some((c) => c.name === r.candidate), r.candidate).toBe(true);
      expect(r.final!.none).toBeGreaterThan(0.5);
    }
  });
});

// How much of the CPU other processes took while we timed: from /proc/stat and our own CPU time.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { contentionBetween, parseProcStat, watchContention } from '../lib/cpu-contention.js';

const STAT = 'cpu  60350 87954 41197 49935 955 0 376 0 0 0\ncpu0 30000 40000 20000 25000 400 0 200 0 0 0\ncpu1 30350 47954 21197 24935 555 0 176 0 0 0\nintr 1\n';

describe('CPU contention', () => {
  it('reads /proc/stat: all ticks, busy ticks (not idle or iowait), CPUs', () => {
    expect(parseProcStat(STAT)).toEqual({ total: 60350 + 87954 + 41197 + 49935 + 955 + 376, busy: 60350 + 87954 + 41197 + 376, cpus: 2 });
    expect(parseProcStat('nonsense')).toBeNull();
    expect(parseProcStat('cpu  1 2 x 4\ncpu0 1 2 3 4\n')).toBeNull();
  });

  // Two CPUs, one second (100 ticks each, 200 in all) between the samples.
  const at = (busy: number, oursS: number, total = 200) => ({ total, busy, cpus: 2, oursUs: oursS * 1e6 });
  const zero = at(0, 0, 0);

  it('is 0 when only we ran, 1 when others took both cores from our two threads', () => {
    expect(contentionBetween(zero, at(200, 2), 2)).toBe(0);
    expect(contentionBetween(zero, at(20, 0.2), 2)).toBe(0);  // idle machine
    expect(contentionBetween(zero, at(200, 0), 2)).toBe(1);
    expect(contentionBetween(zero, at(200, 1), 2)).toBeCloseTo(0.5, 6);
  });

  it('does not count what others ran on the cores our threads left free', () => {
    expect(contentionBetween(zero, at(200, 1), 1)).toBe(0);       // 1 thread on 2 cores, a neighbour on the other
    expect(contentionBetween(zero, at(200, 0.5), 1)).toBeCloseTo(0.5, 6);
  });

  it('measures something here (Linux) or says it cannot', () => {
    const done = watchContention(2);
    let x = 0;
    for (let i = 0; i < 3e7; i++) x += i;  // a little CPU time of our own
    const c = done();
    expect(x).toBeGreaterThan(0);
    if (existsSync('/proc/stat')) {
      expect(c).not.toBeNull();
      expect(c!).toBeGreaterThanOrEqual(0);
      expect(c!).toBeLessThanOrEqual(1);
    } else expect(c).toBeNull();
  });
});

// The bf16 advice on the CPU comes from a measurement: with an injected calibration, a CPU where bf16
// measured faster gets no warning and one where it measured slower gets one with the figures; the
// answer is measured once and then read from the cache; a timing taken while other processes held the
// CPU is not cached. And the real measurement runs here and cleans up after itself.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { backends, native } from '../lib/backend.js';
import { bf16CpuWarning, bf16Warning, cpuBf16Speed, describeBf16Speed, measureBf16Speed, WORKLOAD } from '../lib/bf16-speed.js';
import { currentKey, readCachedSpeed, type Bf16Speed } from '../lib/bf16-cache.js';
import { tempDir } from './data/fixtures.js';

const cpu = backends().find((b) => b.device === 'cpu')!;
const hasBf16 = cpu.details.bf16 !== 'none';
const calibration = (fp32Ms: number, bf16Ms: number, contention: number | null = 0.02): Bf16Speed =>
  ({ speedup: fp32Ms / bf16Ms, fp32Ms, bf16Ms, workload: 'two convolutions', measuredAt: '2026-12-04T18:00:00.000Z', tookMs: 420, contention });
const cacheFile = () => join(tempDir('bf16-speed'), 'bf16-speed.json');

/** A measurement stand-in that counts its calls. */
function injected(s: Bf16Speed) {
  const m = Object.assign(() => {
    m.calls++;
    return s;
  }, { calls: 0 });
  return m;
}

describe('bf16 advice on the CPU', () => {
  it('measured faster: no warning; measured slower: a warning with the ratio, both times, the ISA and how to measure again', () => {
    const file = cacheFile();
    expect(bf16CpuWarning({ ...calibration(28.3, 20.7), cached: false, file }, 'avx512_core_bf16')).toBeNull();
    const w = bf16CpuWarning({ ...calibration(17.2, 34.4), cached: true, file }, 'avx512_core_bf16')!;
    expect(w).toContain('precision bf16 is slower than fp32 on this CPU (oneDNN at avx512_core_bf16)');
    expect(w).toContain('measured 0.50x the speed of fp32: slower (34.4 ms against 17.2 ms for two convolutions; 2026-12-04)');
    expect(w).toContain(`cached in ${file}; \`vgg-cifar info --measure-bf16\` measures again`);
    expect(describeBf16Speed(calibration(28.3, 20.7))).toBe('measured 1.37x as fast as fp32 (20.7 ms against 28.3 ms for two convolutions; 2026-12-04)');
  });

  it.skipIf(!hasBf16)('bf16Warning measures once, caches, and then reads the cache (faster: null; slower: the warning)', () => {
    for (const [s, warns] of [[calibration(28, 20), false], [calibration(17, 34), true]] as const) {
      const file = cacheFile();
      const measure = injected(s);
      const first = bf16Warning('cpu', { file, measure });
      const second = bf16Warning('cpu', { file, measure });
      expect(measure.calls).toBe(1);
      expect(first === null).toBe(!warns);
      if (warns) {
        expect(first).toContain('measured now in 420 ms; cached in');
        expect(second).toContain(`cached in ${file}`);
      } else expect(second).toBeNull();
      expect(readCachedSpeed(file, currentKey())).toEqual(s);
      // --measure-bf16: measured again, replacing the entry
      cpuBf16Speed({ file, measure, fresh: true });
      expect(measure.calls).toBe(2);
    }
  });

  it('a new CPU model or oneDNN version measures again', () => {
    const file = cacheFile();
    const key = { cpu: 'A', onednn: '2.6.3', isa: 'avx512_core_bf16', threads: 2, convolution: 'w', addon: '0.1.0' };
    const measure = injected(calibration(28, 20));
    cpuBf16Speed({ file, key, measure });
    expect(cpuBf16Speed({ file, key, measure }).cached).toBe(true);
    expect(cpuBf16Speed({ file, key: { ...key, cpu: 'B' }, measure }).cached).toBe(false);
    expect(cpuBf16Speed({ file, key: { ...key, onednn: '3.5.0' }, measure }).cached).toBe(false);
    expect(measure.calls).toBe(3);
  });

  it('a timing taken while other processes held the CPU is used but not cached', () => {
    const file = cacheFile();
    const key = { cpu: 'A', onednn: '2.6.3', isa: 'avx512_core_bf16', threads: 2, convolution: 'w', addon: '0.1.0' };
    const measure = injected(calibration(17, 34, 0.76));
    const r = cpuBf16Speed({ file, key, measure });
    expect(r.speedup).toBe(0.5);
    expect(r.notCached).toBe('other processes took 76% of the CPU meanwhile; measured again at the next use');
    expect(bf16CpuWarning(r, 'avx512_core_bf16')).toContain('not cached: other processes took 76% of the CPU');
    expect(existsSync(file)).toBe(false);
    cpuBf16Speed({ file, key, measure });
    expect(measure.calls).toBe(2);
  });

  it.skipIf(!hasBf16)('measures here: both precisions timed, a finite ratio, no tensor left behind', () => {
    const before = native.liveBytes('cpu');
    const s = measureBf16Speed();
    expect(native.liveBytes('cpu')).toBe(before);
    expect(s.workload).toBe(WORKLOAD);
    expect(s.fp32Ms).toBeGreaterThan(0);
    expect(s.bf16Ms).toBeGreaterThan(0);
    expect(s.speedup).toBeCloseTo(s.fp32Ms / s.bf16Ms, 9);
    expect(s.tookMs).toBeGreaterThanOrEqual(s.fp32Ms + s.bf16Ms);
    expect(Date.parse(s.measuredAt)).toBeGreaterThan(Date.now() - 60_000);
    console.log(`bf16 on this CPU: ${describeBf16Speed(s)}; took ${Math.round(s.tookMs)} ms; contention ${s.contention}`);
  });

  it.skipIf(hasBf16)('below AVX-512 bf16 is refused, before any measurement', () => {
    const measure = injected(calibration(28, 20));
    expect(() => bf16Warning('cpu', { file: cacheFile(), measure })).toThrow(/needs a CPU with AVX-512/);
    expect(measure.calls).toBe(0);
  });
});

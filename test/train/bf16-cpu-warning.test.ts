// The command line's bf16 advice on the CPU follows the measured speed: `info` shows the ratio, and
// `train`/`eval --precision bf16` warn only where bf16 measured slower than fp32. The measurement is
// injected as a cache entry (in a cache folder of the test's own) under this machine's key, so the
// children read it instead of timing. Below AVX-512 (oneDNN capped at AVX2) bf16 is refused.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli } from '../../bench/kill.js';
import { backends } from '../../lib/backend.js';
import { currentKey, defaultCacheFile, writeCachedSpeed, type Bf16Speed } from '../../lib/bf16-cache.js';
import { tempDir } from '../data/fixtures.js';
import { writeLearnableDataset } from './fixtures.js';

const cpu = backends().find((b) => b.device === 'cpu')!;
const hasBf16 = cpu.details.bf16 !== 'none';

/** An XDG_CACHE_HOME whose cache says bf16 ran `fp32Ms / bf16Ms` times as fast as fp32 here. */
function measured(fp32Ms: number, bf16Ms: number): Record<string, string> {
  const env = { XDG_CACHE_HOME: tempDir('bf16-cli-cache') };
  const s: Bf16Speed = { speedup: fp32Ms / bf16Ms, fp32Ms, bf16Ms, workload: 'injected convolutions', measuredAt: new Date().toISOString(),
    tookMs: 400, contention: 0 };
  expect(writeCachedSpeed(defaultCacheFile(env), currentKey(), s)).toBeNull();
  return env;
}

const data = writeLearnableDataset(tempDir('bf16-warn'), 40);
const trainArgs = (out: string) => ['train', '--data', data, '--out', out, '--model', 'vgg11', '--width-divisor', '8', '--epochs', '1',
  '--batch-size', '20', '--precision', 'bf16', '--no-progress', '--no-report', '--backend', 'cpu'];

describe.skipIf(!hasBf16)('bf16 advice on the command line', () => {
  it('measured slower: info shows the ratio; train and eval --precision bf16 warn and still run; fp32 stays quiet', async () => {
    const env = measured(17.2, 34.4);
    const info = await runCli(['info'], undefined, env);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toContain(`bf16 (--precision bf16): ${String(cpu.details.bf16)}`);
    expect(info.stdout).toMatch(/bf16 speed: measured 0\.50x the speed of fp32: slower \(34\.4 ms against 17\.2 ms for injected convolutions; \d{4}-\d\d-\d\d\); cached in .*bf16-speed\.json/);
    const out = tempDir('bf16-warn-run');
    const train = await runCli(trainArgs(out), undefined, env);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stderr).toMatch(/warning: precision bf16 is slower than fp32 on this CPU \(oneDNN at \w+\): measured 0\.50x the speed of fp32/);
    const ckpt = join(out, 'cifar10_epoch_1.safetensors');
    const evaluated = await runCli(['eval', '--checkpoint', ckpt, '--data', data, '--precision', 'bf16', '--backend', 'cpu'], undefined, env);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stderr).toContain('warning: precision bf16 is slower than fp32 on this CPU');
    expect(evaluated.stdout).toMatch(/test split: 40 images, accuracy/);
    const quiet = await runCli(['eval', '--checkpoint', ckpt, '--data', data, '--backend', 'cpu'], undefined, env);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toContain('warning');
  });

  it('measured faster: no warning; info --json carries the measurement', async () => {
    const env = measured(28.3, 20.7);
    const info = await runCli(['info', '--json'], undefined, env);
    expect(info.code, info.stderr).toBe(0);
    const j = JSON.parse(info.stdout);
    expect(j.cpuBf16).toMatchObject({ fp32Ms: 28.3, bf16Ms: 20.7, cached: true, workload: 'injected convolutions' });
    expect(j.cpuBf16.speedup).toBeCloseTo(28.3 / 20.7, 9);
    const out = tempDir('bf16-fast-run');
    const train = await runCli(trainArgs(out), undefined, env);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stderr).not.toContain('warning');
    const evaluated = await runCli(['eval', '--checkpoint', join(out, 'cifar10_epoch_1.safetensors'), '--data', data, '--precision', 'bf16',
      '--backend', 'cpu'], undefined, env);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stderr).not.toContain('warning');
  });

  it('below AVX-512 (oneDNN capped at AVX2): bf16 is refused as before, and info measures nothing', async () => {
    const env = { DNNL_MAX_CPU_ISA: 'AVX2', XDG_CACHE_HOME: tempDir('bf16-avx2-cache') };
    const info = await runCli(['info'], undefined, env);
    expect(info.stdout).toContain('bf16 (--precision bf16): none');
    expect(info.stdout).not.toContain('bf16 speed');
    const train = await runCli(trainArgs(tempDir('bf16-avx2-run')), undefined, env);
    expect(train.code).not.toBe(0);
    expect(train.stderr).toContain('precision bf16 needs a CPU with AVX-512 (oneDNN has bf16 kernels from AVX-512 up); this CPU runs oneDNN at avx2');
  });
});

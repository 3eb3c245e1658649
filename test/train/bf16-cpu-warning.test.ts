// bf16 on a CPU without AMX runs, but slower than fp32 (oneDNN 2.6's direct bf16 convolutions against its
// fp32 Winograd ones; bench/RESULTS.md): `info`, `train` and `eval` say so. oneDNN's DNNL_MAX_CPU_ISA
// makes this AMX machine dispatch like one with AVX512-BF16 only, or with emulated bf16.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli } from '../../bench/kill.js';
import { backends, bf16CpuWarning } from '../../lib/backend.js';
import { tempDir } from '../data/fixtures.js';
import { writeLearnableDataset } from './fixtures.js';

const cpu = backends().find((b) => b.device === 'cpu')!;
const ISA_ORDER = ['avx2', 'avx512_core', 'avx512_core_vnni', 'avx512_core_bf16', 'avx512_core_amx'];
const hasIsa = (isa: string) => ISA_ORDER.indexOf(String(cpu.details.isa)) >= ISA_ORDER.indexOf(isa);

describe('bf16 on a CPU without AMX', () => {
  it('warns for every bf16 support but AMX, naming the ISA and the cost', () => {
    expect(bf16CpuWarning('avx512_core_amx', 'AMX')).toBeNull();
    for (const support of ['AVX512-BF16 (no AMX: slower than fp32)', 'AVX-512 (emulated, slower than fp32)']) {
      const w = bf16CpuWarning('avx512_core_bf16', support)!;
      expect(w).toContain('slower than fp32 on this CPU');
      expect(w).toContain(support);
      expect(w).toContain('avx512_core_bf16');
    }
  });

  const capped = hasIsa('avx512_core_bf16');
  if (!capped) console.log(`bf16 ISA-cap test skipped: this CPU runs oneDNN at ${String(cpu.details.isa)}, below avx512_core_bf16`);
  it.skipIf(!capped)('with oneDNN capped at AVX512-BF16: info says slower than fp32; train and eval --precision bf16 warn and still run', async () => {
    const env = { DNNL_MAX_CPU_ISA: 'AVX512_CORE_BF16' };
    const info = await runCli(['info'], undefined, env);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toContain('bf16 (--precision bf16): AVX512-BF16 (no AMX: slower than fp32)');
    const data = writeLearnableDataset(tempDir('bf16-warn'), 40);
    const out = tempDir('bf16-warn-run');
    const train = await runCli(['train', '--data', data, '--out', out, '--model', 'vgg11', '--width-divisor', '8', '--epochs', '1',
      '--batch-size', '20', '--precision', 'bf16', '--no-progress', '--no-report', '--backend', 'cpu'], undefined, env);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stderr).toMatch(/warning: precision bf16 is slower than fp32 on this CPU \(oneDNN at avx512_core_bf16/);
    const evaluated = await runCli(['eval', '--checkpoint', join(out, 'cifar10_epoch_1.safetensors'), '--data', data, '--precision', 'bf16',
      '--backend', 'cpu'], undefined, env);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stderr).toContain('warning: precision bf16 is slower than fp32 on this CPU');
    expect(evaluated.stdout).toMatch(/test split: 40 images, accuracy/);
    // fp32 stays quiet
    const quiet = await runCli(['eval', '--checkpoint', join(out, 'cifar10_epoch_1.safetensors'), '--data', data, '--backend', 'cpu'], undefined, env);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toContain('warning');
  });
});

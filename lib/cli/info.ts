import type { Command } from 'commander';
import { backends, native, type BackendInfo } from '../backend.js';
import { cpuBf16Speed, describeBf16Source, describeBf16Speed, type CpuBf16SpeedResult } from '../bf16-speed.js';

/** The CPU's measured bf16 speed (measured now unless cached), or why there is none. */
function cpuBf16(cpu: BackendInfo | undefined, fresh: boolean): CpuBf16SpeedResult | { error: string } | null {
  if (!cpu?.available || cpu.details.bf16 === 'none') return null;
  try {
    return cpuBf16Speed({ fresh });
  } catch (e) {
    return { error: `the bf16 measurement failed: ${(e as Error).message}` };
  }
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print the available backends (oneDNN version and ISA, bf16 speed against fp32 as measured on this CPU; CUDA: compiled or not, and why it cannot run), Node and addon versions')
    .option('--json', 'print one JSON object')
    .option('--measure-bf16', 'measure bf16 against fp32 on this CPU again (the answer is otherwise cached)')
    .action((opts: { json?: boolean; measureBf16?: boolean }) => {
      const all = backends();
      const bf16 = cpuBf16(all.find((b) => b.device === 'cpu'), opts.measureBf16 ?? false);
      const info = { node: process.version, addon: native.version, napi: native.napiVersion, threads: native.getThreads(), backends: all, cpuBf16: bf16 };
      if (opts.json) {
        process.stdout.write(JSON.stringify(info, null, 2) + '\n');
        return;
      }
      process.stdout.write(`vgg-cifar ${info.addon} (N-API ${info.napi}) on Node ${info.node}\n`);
      for (const b of info.backends) {
        const state = b.available ? 'available' : b.compiled ? 'compiled, not usable here' : 'not compiled';
        process.stdout.write(`  ${b.device.padEnd(5)} ${state}: ${b.description}\n`);
        if (b.reason) process.stdout.write(`        why: ${b.reason}\n`);
        if (b.available && b.details?.convolution) process.stdout.write(`        convolution: ${b.details.convolution}\n`);
        if (!b.available || !b.details?.bf16) continue;
        process.stdout.write(`        bf16 (--precision bf16): ${b.details.bf16}\n`);
        if (b.device !== 'cpu' || !bf16) continue;
        if ('error' in bf16) process.stdout.write(`        bf16 speed: ${bf16.error}\n`);
        else process.stdout.write(`        bf16 speed: ${describeBf16Speed(bf16)}; ${describeBf16Source(bf16)}\n`);
      }
    });
}

import type { Command } from 'commander';
import { backends, native } from '../backend.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print the available backends (oneDNN version and ISA; CUDA: compiled or not, and why it cannot run), Node and addon versions')
    .option('--json', 'print one JSON object')
    .action((opts: { json?: boolean }) => {
      const info = { node: process.version, addon: native.version, napi: native.napiVersion, threads: native.getThreads(), backends: backends() };
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
        if (b.available && b.details?.bf16) process.stdout.write(`        bf16 (--precision bf16): ${b.details.bf16}\n`);
      }
    });
}

#!/usr/bin/env node
// The vgg-cifar command line: parses flags and prints; the work is in the API (lib/index.ts).
import { Command } from 'commander';
import { registerInfo } from './info.js';
import { registerSummary } from './summary.js';
import { registerTrain } from './train.js';
import { registerEval } from './eval.js';
import { registerVisualize } from './visualize.js';
import { registerPredict } from './predict.js';
import { registerReport } from './report.js';
import { registerExport } from './export.js';
import { registerServe } from './serve.js';

// `vgg-cifar info | head`: a reader that closes the pipe early is not an error, and a training run
// whose output is no longer read goes on (it still writes checkpoints and its log).
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});

const program = new Command();
program.name('vgg-cifar').description('Train VGG16 on CIFAR-10 from Node.js (oneDNN on the CPU, cuDNN/cuBLAS on NVIDIA GPUs)');
registerInfo(program);
registerSummary(program);
registerTrain(program);
registerEval(program);
registerVisualize(program);
registerPredict(program);
registerReport(program);
registerExport(program);
registerServe(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`vgg-cifar: ${msg}\n`);
  process.exit(1);
});

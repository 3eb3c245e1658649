// `vgg-cifar train`: flags -> train() options; prints the report's lines, a progress bar on a terminal,
// and saves + explains how to resume on Ctrl-C.
import type { Command } from 'commander';
import { Option } from 'commander';
import cliProgress from 'cli-progress';
import { join } from 'node:path';
import { train, type TrainInput } from '../train/index.js';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got '${v}'`);
  return n;
};
const float = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got '${v}'`);
  return n;
};

export interface TrainFlags {
  data: string; download?: boolean; recipe?: 'report' | 'fast'; model?: string; bn?: boolean; classifier?: string;
  reluOnLogits?: boolean; widthDivisor?: number; epochs?: number; batchSize?: number; optimizer?: string; lr?: number; momentum?: number;
  nesterov?: boolean; weightDecay?: number; schedule?: string; labelSmoothing?: number; init?: string; augment?: boolean;
  normalize?: boolean; display?: number; saveEvery?: number; out?: string; seed?: number; backend?: string; threads?: number; tf32?: boolean; precision?: string;
  limit?: number; testLimit?: number; eval?: boolean; report?: boolean; skipNonFinite?: boolean; resume?: string; log?: string; progress?: boolean;
}

const INIT_ALIASES: Record<string, string> = { xavier: 'xavier_uniform', kaiming: 'kaiming_normal', default: 'pytorch_default' };

export function flagsToInput(f: TrainFlags): TrainInput {
  const input: Record<string, unknown> = {
    data: f.data, download: f.download, recipe: f.recipe, model: f.model, batchNorm: f.bn, classifier: f.classifier,
    reluOnLogits: f.reluOnLogits, widthDivisor: f.widthDivisor, epochs: f.epochs, batchSize: f.batchSize, optimizer: f.optimizer, lr: f.lr,
    momentum: f.momentum, nesterov: f.nesterov, weightDecay: f.weightDecay, schedule: f.schedule,
    labelSmoothing: f.labelSmoothing, init: f.init ? (INIT_ALIASES[f.init] ?? f.init) : undefined, augment: f.augment,
    normalize: f.normalize, display: f.display, saveEvery: f.saveEvery, out: f.out, seed: f.seed, backend: f.backend,
    threads: f.threads, tf32: f.tf32, precision: f.precision, limit: f.limit, testLimit: f.testLimit, evalEveryEpoch: f.eval, report: f.report, skipNonFinite: f.skipNonFinite, resume: f.resume, log: f.log,
  };
  for (const k of Object.keys(input)) if (input[k] === undefined) delete input[k];
  return input as TrainInput;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a VGG on CIFAR-10 (defaults reproduce the study report: VGG16, Adam 1e-3, batch 32, 50 epochs, Xavier init)')
    .requiredOption('--data <dir>', 'folder holding cifar-10-batches-bin/ (or it, or cifar-10-binary.tar.gz)')
    .option('--download', 'download the official archive into --data when missing')
    .addOption(new Option('--recipe <name>', 'report: the study report; fast: best accuracy (BN, SGD Nesterov one-cycle, augmentation)').choices(['report', 'fast']))
    .addOption(new Option('--model <name>').choices(['vgg11', 'vgg13', 'vgg16', 'vgg19']))
    .option('--bn', 'BatchNorm after every convolution')
    .addOption(new Option('--classifier <kind>', 'report: 512-100-100-10; standard: 512-512-512 with dropout; linear: 512-10').choices(['report', 'standard', 'linear']))
    .option('--width-divisor <n>', 'divide every conv width by n (1: the real VGG)', int('width-divisor'))
    .option('--relu-on-logits', "reproduce the report's bug: a ReLU after the last Linear (the loss then stalls at ln 10)")
    .option('--epochs <n>', 'epochs', int('epochs'))
    .option('--batch-size <n>', 'batch size', int('batch-size'))
    .addOption(new Option('--optimizer <name>').choices(['adam', 'adamw', 'adagrad', 'sgd']))
    .option('--lr <x>', 'learning rate', float('lr'))
    .option('--momentum <x>', 'SGD momentum', float('momentum'))
    .option('--nesterov', 'Nesterov momentum (SGD)')
    .option('--weight-decay <x>', 'weight decay (not applied to biases and BatchNorm)', float('weight-decay'))
    .addOption(new Option('--schedule <name>', 'learning-rate schedule').choices(['constant', 'step', 'multistep', 'cosine', 'onecycle']))
    .option('--label-smoothing <x>', 'label smoothing', float('label-smoothing'))
    .addOption(new Option('--init <scheme>').choices(['xavier', 'xavier_uniform', 'kaiming', 'kaiming_normal', 'kaiming_uniform', 'default', 'pytorch_default']))
    .option('--augment', 'random crop (pad 4) and horizontal flip')
    .option('--no-augment', 'no augmentation')
    .option('--normalize', "normalize with CIFAR-10's per-channel mean and std")
    .option('--display <n>', "print the report's loss line every n steps", int('display'))
    .option('--save-every <n>', 'save a checkpoint every n epochs', int('save-every'))
    .option('--out <dir>', 'folder for checkpoints, metrics and report.html')
    .option('--seed <n>', 'seed of every random choice', int('seed'))
    .addOption(new Option('--backend <name>').choices(['auto', 'cpu', 'cuda']))
    .option('--threads <n>', 'CPU threads (0: all cores)', int('threads'))
    .option('--tf32', 'TF32 tensor-core math for fp32 convolutions and GEMMs (CUDA; faster, ~1e-3 relative products)')
    .addOption(new Option('--precision <p>', 'bf16: mixed precision (bf16 activations, fp32 master weights): faster on Ampere+ GPUs and on most AVX512-BF16/AMX CPUs (`vgg-cifar info` shows the measured speed)').choices(['fp32', 'bf16']))
    .option('--limit <n>', 'train on the first n training images', int('limit'))
    .option('--test-limit <n>', 'evaluate on the first n test images', int('test-limit'))
    .option('--no-eval', 'skip the test-split evaluation after each epoch')
    .option('--resume <file>', 'continue from a checkpoint')
    .option('--log <file>', 'append metrics as JSON lines')
    .option('--skip-non-finite', 'skip a step whose loss or gradients are NaN/Inf instead of stopping')
    .option('--no-report', 'do not write run.json and report.html after each epoch')
    .option('--no-progress', 'no progress bar even on a terminal')
    .action(async (flags: TrainFlags) => {
      await runTrainCommand(flags);
    });
}

async function runTrainCommand(flags: TrainFlags): Promise<void> {
  const controller = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\nvgg-cifar: stopping after this step and saving a checkpoint (Ctrl-C again to quit without saving)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const tty = Boolean(process.stderr.isTTY) && flags.progress !== false;
  const run = train(flagsToInput(flags), { signal: controller.signal });
  let bar: cliProgress.SingleBar | null = null;
  const out = (line: string) => {
    if (bar) bar.stop();
    process.stdout.write(line + '\n');
    bar = null;
  };
  run.on('info', (i) => out(`vgg-cifar: training ${run.options.model}${run.options.batchNorm ? '-bn' : ''} (${i.parameters.toLocaleString('en-US')} parameters) on ${i.deviceDescription}; ${i.trainImages} training images, ${i.testImages} test images`));
  run.on('log', out);
  run.on('warning', (w) => { if (bar) bar.stop(); bar = null; process.stderr.write(`\nwarning: ${w.message}\n\n`); });
  run.on('epoch', (e) => out(`epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}, train accuracy ${(100 * e.trainAccuracy).toFixed(2)}% (training split)` +
    (e.testAccuracy !== null ? `; test accuracy ${(100 * e.testAccuracy).toFixed(2)}%, test loss ${e.testLoss!.toFixed(4)} (test split)` : '') +
    `; ${e.imagesPerSecond.toFixed(1)} images/s, ${e.seconds.toFixed(1)} s`));
  run.on('checkpoint', (c) => out(`saved ${c.path}`));
  run.on('progress', (p) => {
    if (!tty) return;
    if (!bar) {
      bar = new cliProgress.SingleBar({ format: 'epoch {epoch} [{bar}] {value}/{total} | loss {loss} | acc {acc}% | {ips} img/s | ETA {eta_formatted}', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
      bar.start(p.stepsPerEpoch, p.stepInEpoch, {});
    }
    bar.update(p.stepInEpoch, { epoch: p.epoch, loss: p.loss.toFixed(4), acc: (100 * p.accuracy).toFixed(1), ips: p.imagesPerSecond.toFixed(1) });
  });
  try {
    const h = await run;
    if (bar) (bar as cliProgress.SingleBar).stop();
    if (run.options.report) process.stdout.write(`report: ${join(run.options.out, 'report.html')}\n`);
    if (h.aborted) {
      const last = h.checkpoints.at(-1);
      process.stdout.write(`stopped. Resume with: vgg-cifar train --data ${flags.data} --resume ${last?.path ?? '<checkpoint>'}` +
        ' (the checkpoint remembers the other options)\n');
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

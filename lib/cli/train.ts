// `vgg-cifar train`: flags -> train() options; prints the report's lines, a progress bar on a terminal,
// and saves + explains how to resume on Ctrl-C.
import type { TrainHistory } from '../train/events.js';
import type { Command } from 'commander';
import { Option } from 'commander';
import { join } from 'node:path';
import type { TrainInput } from '../train/index.js';
import { train } from '../report/training.js';
import { barOutput, plainOutput } from './train-output.js';
import { formatProfile } from '../profile/index.js';
import { ttaLabel } from '../train/tta.js';

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
  data: string; download?: boolean; recipe?: 'report' | 'fast' | 'speed'; model?: string; bn?: boolean; classifier?: string;
  reluOnLogits?: boolean; widthDivisor?: number; epochs?: number; batchSize?: number; optimizer?: string; lr?: number; momentum?: number;
  nesterov?: boolean; weightDecay?: number; schedule?: string; warmupShare?: number; labelSmoothing?: number; init?: string; augment?: boolean;
  padMode?: string; tta?: string; plainEpochs?: number; ema?: number; emaEvery?: number; cutout?: number;
  normalize?: boolean; display?: number; saveEvery?: number; out?: string; runsDir?: string; overwrite?: boolean; seed?: number; backend?: string; threads?: number; tf32?: boolean; graphs?: string; precision?: string;
  limit?: number; testLimit?: number; eval?: boolean; report?: boolean; skipNonFinite?: boolean; resume?: string; log?: string; progress?: boolean;
  profile?: boolean; profileSteps?: number; profileWarmup?: number;
}

const INIT_ALIASES: Record<string, string> = { xavier: 'xavier_uniform', kaiming: 'kaiming_normal', default: 'pytorch_default' };

export function flagsToInput(f: TrainFlags): TrainInput {
  const input: Record<string, unknown> = {
    data: f.data, download: f.download, recipe: f.recipe, model: f.model, batchNorm: f.bn, classifier: f.classifier,
    reluOnLogits: f.reluOnLogits, widthDivisor: f.widthDivisor, epochs: f.epochs, batchSize: f.batchSize, optimizer: f.optimizer, lr: f.lr,
    momentum: f.momentum, nesterov: f.nesterov, weightDecay: f.weightDecay, schedule: f.schedule, warmupShare: f.warmupShare, padMode: f.padMode, tta: f.tta,
    plainEpochs: f.plainEpochs, emaDecay: f.ema, emaEvery: f.emaEvery, cutout: f.cutout,
    labelSmoothing: f.labelSmoothing, init: f.init ? (INIT_ALIASES[f.init] ?? f.init) : undefined, augment: f.augment,
    normalize: f.normalize, display: f.display, saveEvery: f.saveEvery, out: f.out, runsDir: f.runsDir, overwrite: f.overwrite, seed: f.seed, backend: f.backend,
    threads: f.threads, tf32: f.tf32, graphs: f.graphs, precision: f.precision, limit: f.limit, testLimit: f.testLimit, evalEveryEpoch: f.eval, report: f.report, skipNonFinite: f.skipNonFinite, resume: f.resume, log: f.log,
    profile: f.profile, profileSteps: f.profileSteps, profileWarmup: f.profileWarmup,
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
    .addOption(new Option('--recipe <name>', 'report: the study report; fast: best accuracy in 30 epochs (BN, SGD Nesterov one-cycle, augmentation); ' +
      'speed: least time to 93% on a GPU (provisional: bf16, batch 512, flip TTA)').choices(['report', 'fast', 'speed']))
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
    .addOption(new Option('--schedule <name>', 'learning-rate schedule (linear: warm-up then linear decay to 0)').choices(['constant', 'step', 'multistep', 'cosine', 'onecycle', 'linear']))
    .option('--warmup-share <x>', "share of the run with a rising learning rate (one-cycle's pct_start)", float('warmup-share'))
    .option('--label-smoothing <x>', 'label smoothing', float('label-smoothing'))
    .addOption(new Option('--init <scheme>').choices(['xavier', 'xavier_uniform', 'kaiming', 'kaiming_normal', 'kaiming_uniform', 'default', 'pytorch_default']))
    .option('--augment', 'random crop (pad 4) and horizontal flip')
    .option('--no-augment', 'no augmentation')
    .addOption(new Option('--pad-mode <mode>', 'padding of the random crop').choices(['zero', 'reflect']))
    .option('--cutout <n>', 'hide a random n x n square of every training image (Cutout; 0: off)', int('cutout'))
    .option('--plain-epochs <n>', 'train the last n epochs without crop and flip', int('plain-epochs'))
    .option('--ema <decay>', 'evaluate and save an exponential moving average of the weights (decay per step, e.g. 0.995; 0: off)', float('ema'))
    .option('--ema-every <n>', 'steps between updates of the average (default 5)', int('ema-every'))
    .addOption(new Option('--tta <mode>', 'test-time augmentation of the per-epoch test evaluation (flip: mean softmax of each image and its mirror)').choices(['none', 'flip']))
    .option('--normalize', "normalize with CIFAR-10's per-channel mean and std")
    .option('--display <n>', "print the report's loss line every n steps", int('display'))
    .option('--save-every <n>', 'save a checkpoint every n epochs', int('save-every'))
    .option('--out <dir>', 'the run\'s folder for checkpoints, run.json and report.html (default: a fresh runs/<date>-<time>-<model>; ' +
      'with --resume, the checkpoint\'s folder); a folder holding another run\'s files is refused')
    .option('--runs-dir <dir>', 'where the fresh run folders go, with a `latest` link to the newest (default runs)')
    .option('--overwrite', 'replace the files of another run in --out (with --resume: also this run\'s checkpoints past the resume point)')
    .option('--seed <n>', 'seed of every random choice', int('seed'))
    .addOption(new Option('--backend <name>').choices(['auto', 'cpu', 'cuda']))
    .option('--threads <n>', 'CPU threads (0: all cores)', int('threads'))
    .option('--tf32', 'TF32 tensor-core math for fp32 convolutions and GEMMs (CUDA; faster, ~1e-3 relative products)')
    .addOption(new Option('--graphs <mode>', 'CUDA graphs for the training and evaluation steps: auto (on for cuda unless VGG_CIFAR_CUDA_GRAPHS=0) or off; same results either way').choices(['auto', 'off']))
    .addOption(new Option('--precision <p>', 'bf16: mixed precision (bf16 activations, fp32 master weights): faster on Ampere+ GPUs and on most AVX512-BF16/AMX CPUs (`vgg-cifar info` shows the measured speed)').choices(['fp32', 'bf16']))
    .option('--limit <n>', 'train on the first n training images', int('limit'))
    .option('--test-limit <n>', 'evaluate on the first n test images', int('test-limit'))
    .option('--no-eval', 'skip the test-split evaluation after each epoch')
    .option('--resume <file>', 'continue the run of a checkpoint, in its folder (or --out)')
    .option('--log <file>', 'append metrics as JSON lines')
    .option('--skip-non-finite', 'skip a step whose loss or gradients are NaN/Inf instead of stopping')
    .option('--no-report', 'do not write run.json and report.html after each epoch')
    .option('--no-progress', 'no progress bar even on a terminal')
    .option('--profile', 'time every op per layer over --profile-steps steps of the first epoch and print the table (CUDA events on the GPU)')
    .option('--profile-steps <n>', 'steps the profiler measures (default 50, at most 1000; fewer when the epoch ends first)', int('profile-steps'))
    .option('--profile-warmup <n>', 'steps before the profiler starts (default 5)', int('profile-warmup'))
    .action(async (flags: TrainFlags) => {
      await runTrainCommand(flags);
    });
}

async function runTrainCommand(flags: TrainFlags): Promise<void> {
  const controller = new AbortController();
  let interrupted = false;
  const run = train(flagsToInput(flags), { signal: controller.signal });
  const bar = Boolean(process.stderr.isTTY) && flags.progress !== false;
  const output = bar ? barOutput(run.options.epochs) : plainOutput();
  const onSigint = () => {
    if (interrupted) {
      output.stop();
      process.exit(130);
    }
    interrupted = true;
    output.note('\nvgg-cifar: stopping after this step and saving a checkpoint (Ctrl-C again to quit without saving)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const out = (line: string) => output.line(line);
  run.on('start', (s) => {
    out(`vgg-cifar: run ${s.runId} in ${s.out}`);
    for (const n of s.notices) output.note(`vgg-cifar: ${n}\n`);
  });
  run.on('info', (i) => out(`vgg-cifar: training ${run.options.model}${run.options.batchNorm ? '-bn' : ''} (${i.parameters.toLocaleString('en-US')} parameters) on ${i.deviceDescription}; ${i.trainImages} training images, ${i.testImages} test images`));
  run.on('log', out);
  run.on('warning', (w) => output.note(`\nwarning: ${w.message}\n\n`));
  run.on('epoch', (e) => out(`epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}, train accuracy ${(100 * e.trainAccuracy).toFixed(2)}% (training split)` +
    (e.testAccuracy !== null ? `; test accuracy ${(100 * e.testAccuracy).toFixed(2)}%, test loss ${e.testLoss!.toFixed(4)} (test split, ${ttaLabel(e.testTta ?? 'none')}${e.testEma ? ', averaged weights' : ''})` : '') +
    `; ${e.imagesPerSecond.toFixed(1)} images/s, ${e.seconds.toFixed(1)} s`));
  run.on('checkpoint', (c) => out(`saved ${c.path}`));
  run.on('progress', (p) => output.progress(p));
  run.on('tick', (t) => output.tick(t));
  run.on('profile', (p) => out(formatProfile(p)));
  try {
    const h = await run;
    output.stop(!h.aborted && !h.stoppedOnNonFinite);
    const line = graphsLine(h);
    if (line) process.stdout.write(`${line}\n`);
    if (run.options.report) process.stdout.write(`report: ${join(h.info.out, 'report.html')}
`);
    if (h.aborted) {
      const last = h.checkpoints.at(-1);
      process.stdout.write(`stopped. Resume with: vgg-cifar train --data ${flags.data} --resume ${last?.path ?? '<checkpoint>'}` +
        ' (the checkpoint remembers the other options)\n');
    }
  } finally {
    output.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

/** How the steps ran on a GPU, for the end of a run: nothing on the cpu, where graphs do not apply. */
export function graphsLine(h: Pick<TrainHistory, 'graphs' | 'info'>): string | null {
  const g = h.graphs;
  if (!g || h.info.device !== 'cuda') return null;
  if (g.off !== null) return `CUDA graphs: off (${g.off}); ${g.eager.toLocaleString('en-US')} steps ran op by op`;
  const failed = Object.entries(g.failed);
  return `CUDA graphs: ${g.replayed.toLocaleString('en-US')} training steps replayed, ${g.captured} captured, ${g.eager.toLocaleString('en-US')} eager` +
    (failed.length ? `; capture failed for ${failed.map(([k, why]) => `${k} (${why})`).join(', ')}` : '');
}

// `vgg-cifar eval`: accuracy on the TEST split (the study report "validated" on its training data).
import type { Command } from 'commander';
import { Option } from 'commander';
import { evaluate } from '../train/evaluate-api.js';
import { formatConfusion } from '../train/evaluate.js';
import { ttaLabel, type TtaMode } from '../train/tta.js';

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate a checkpoint on the CIFAR-10 test split: accuracy, per-class accuracy, confusion matrix')
    .requiredOption('--checkpoint <file>', 'a .safetensors checkpoint (ours, or a state dict saved from PyTorch)')
    .requiredOption('--data <dir>', 'folder holding cifar-10-batches-bin/ (or it, or the archive)')
    .addOption(new Option('--split <name>', 'which split (test unless you mean to measure training accuracy)').choices(['test', 'train']).default('test'))
    .addOption(new Option('--model <name>', 'architecture, for files that carry no configuration').choices(['vgg11', 'vgg13', 'vgg16', 'vgg19']))
    .option('--bn', 'the model has BatchNorm (files without configuration)')
    .addOption(new Option('--classifier <kind>').choices(['report', 'standard', 'linear']))
    .option('--normalize', 'the model was trained on normalized inputs (files without configuration)')
    .option('--batch-size <n>', 'batch size', (v) => Number(v), 256)
    .option('--limit <n>', 'only the first n images', (v) => Number(v), 0)
    .addOption(new Option('--backend <name>').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .addOption(new Option('--precision <p>', 'bf16: mixed precision (faster on Ampere+ GPUs and on most AVX512-BF16/AMX CPUs; `vgg-cifar info` shows the measured speed)').choices(['fp32', 'bf16']).default('fp32'))
    .addOption(new Option('--tta <mode>', 'test-time augmentation: flip = mean softmax of each image and its mirror').choices(['none', 'flip']).default('none'))
    .option('--json', 'print one JSON object')
    .action(async (f: { checkpoint: string; data: string; split: 'test' | 'train'; model?: 'vgg16'; bn?: boolean; classifier?: 'report';
      normalize?: boolean; batchSize: number; limit: number; backend: 'auto'; precision: 'fp32' | 'bf16'; tta: TtaMode; json?: boolean }) => {
      const r = await evaluate({ checkpoint: f.checkpoint, data: f.data, split: f.split, model: f.model, batchNorm: f.bn, classifier: f.classifier,
        normalize: f.normalize, batchSize: f.batchSize, limit: f.limit, backend: f.backend, precision: f.precision, tta: f.tta,
        onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
      if (f.json) {
        const { predictions: _p, ...rest } = r;
        const perClass = Object.fromEntries(r.classes.map((c, i) => [c, r.perClass[i]]));
        process.stdout.write(JSON.stringify({ ...rest, perClass }) + '\n');
        return;
      }
      process.stdout.write(`${f.split} split: ${r.count} images, accuracy ${(100 * r.accuracy).toFixed(2)}%, loss ${r.loss.toFixed(4)} (${ttaLabel(r.tta)}${r.averaged ? ', averaged weights' : ''})\n`);
      if (f.split === 'train') process.stdout.write('note: this is TRAINING accuracy; it says nothing about unseen images (use --split test)\n');
      process.stdout.write(formatConfusion(r) + '\n');
    });
}

import type { Command } from 'commander';
import { vgg, type VggDepth, type ClassifierKind } from '../models/vgg.js';
import { summary } from '../nn/summary.js';

interface SummaryFlags {
  model: string;
  bn?: boolean;
  input: string;
  classifier: string;
  classes: string;
  reluOnLogits?: boolean;
  json?: boolean;
}

export function registerSummary(program: Command): void {
  program
    .command('summary')
    .description("print the model's layer table as torchsummary does (output shapes, parameters, memory estimate)")
    .option('--model <name>', 'vgg11, vgg13, vgg16 or vgg19', 'vgg16')
    .option('--bn', 'BatchNorm after every convolution')
    .option('--input <c,h,w>', 'input size (h and w multiples of 32)', '3,32,32')
    .option('--classifier <kind>', "'report' (512-100-100-10), 'standard' (512-512-512, dropout) or 'linear'", 'report')
    .option('--classes <n>', 'number of classes', '10')
    .option('--relu-on-logits', "add the study report's ReLU after the last Linear (reproduces its 38-row table)")
    .option('--json', 'print the rows and totals as JSON')
    .action((f: SummaryFlags) => {
      const m = /^vgg(11|13|16|19)$/.exec(f.model.toLowerCase());
      if (!m) throw new Error(`--model must be vgg11, vgg13, vgg16 or vgg19, got '${f.model}'`);
      const input = f.input.split(',').map((s) => Number(s.trim()));
      if (input.length !== 3 || input.some((d) => !Number.isInteger(d) || d < 1)) {
        throw new Error(`--input must be three positive integers c,h,w, got '${f.input}'`);
      }
      const model = vgg({
        depth: Number(m[1]) as VggDepth,
        batchNorm: !!f.bn,
        classifier: f.classifier as ClassifierKind,
        inChannels: input[0],
        inputSize: [input[1], input[2]],
        numClasses: Number(f.classes),
        reluOnLogits: !!f.reluOnLogits,
      });
      try {
        const s = summary(model, input);
        if (f.json) process.stdout.write(JSON.stringify({ model: model.config, ...s }, null, 2) + '\n');
        else process.stdout.write(s.text);
      } finally {
        model.dispose();
      }
    });
}

// `vgg-cifar report RUN_DIR`: regenerates report.html from a run folder (run.json, checkpoints).
import type { Command } from 'commander';
import { renderReport } from '../report/report.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('regenerate RUN_DIR/report.html (curves, confusion matrix, misclassified images, feature maps) from a training run folder')
    .argument('<run-dir>', 'the folder a training run wrote its checkpoints and run.json to')
    .option('--data <dir>', 'the CIFAR-10 folder, when it has moved since training')
    .option('--out <file>', 'write the page here instead of RUN_DIR/report.html')
    .action(async (dir: string, f: { data?: string; out?: string }) => {
      const r = await renderReport(dir, { data: f.data, out: f.out });
      process.stdout.write(`wrote ${r.path} (${r.charts.length} charts)\n`);
      for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
    });
}

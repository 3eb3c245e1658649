// `vgg-cifar predict`: top classes of PNG/JPEG files by a checkpoint.
import type { Command } from 'commander';
import { Option } from 'commander';
import { predict } from '../report/predict.js';
import { maxPixelsOption } from './max-pixels.js';

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('classify PNG or JPEG images of any size up to --max-pixels (resized to 32x32, normalized as in training): top classes with probabilities')
    .requiredOption('--checkpoint <file>', 'a .safetensors checkpoint')
    .argument('<images...>', 'PNG or JPEG files')
    .option('--top <n>', 'classes listed per image', (v) => Number(v), 5)
    .addOption(maxPixelsOption())
    .addOption(new Option('--backend <name>').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--json', 'print one JSON array')
    .action(async (images: string[], f: { checkpoint: string; top: number; maxPixels: number; backend: 'auto' | 'cpu' | 'cuda'; json?: boolean }) => {
      const r = predict({ checkpoint: f.checkpoint, images, top: f.top, maxPixels: f.maxPixels, backend: f.backend });
      if (f.json) {
        process.stdout.write(JSON.stringify(r) + '\n');
        return;
      }
      for (const p of r) {
        process.stdout.write(`${p.file} (${p.width}x${p.height})\n`);
        for (const t of p.top) process.stdout.write(`  ${t.class.padEnd(12)} ${(100 * t.probability).toFixed(2).padStart(6)}%\n`);
      }
    });
}

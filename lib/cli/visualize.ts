// `vgg-cifar visualize`: every layer's feature maps for one image, drawn into one PNG.
import type { Command } from 'commander';
import { Option } from 'commander';
import { visualize } from '../report/visualize.js';
import { maxPixelsOption } from './max-pixels.js';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${v}'`);
  return n;
};

export function registerVisualize(program: Command): void {
  program
    .command('visualize')
    .description('draw the feature maps of every layer for one image (a PNG/JPEG file or a CIFAR-10 test image) into one PNG')
    .requiredOption('--checkpoint <file>', 'a .safetensors checkpoint')
    .option('--image <path>', 'a PNG or JPEG image (any size up to --max-pixels; resized to 32x32)')
    .addOption(maxPixelsOption())
    .option('--test-index <n>', 'a CIFAR-10 test image instead (needs --data)', int('--test-index'))
    .option('--data <dir>', 'folder holding cifar-10-batches-bin/ (for --test-index)')
    .requiredOption('--out <file>', 'the PNG to write')
    .option('--channels <n>', 'channels drawn per layer', int('--channels'), 10)
    .option('--seed <n>', 'seed of the channel choice', int('--seed'), 0)
    .addOption(new Option('--backend <name>').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--json', 'also print the maps as JSON (layer, shape, channels, values)')
    .action(async (f: { checkpoint: string; image?: string; testIndex?: number; data?: string; out: string; channels: number; seed: number; maxPixels: number;
      backend: 'auto' | 'cpu' | 'cuda'; json?: boolean }) => {
      if ((f.image === undefined) === (f.testIndex === undefined)) throw new Error('visualize: give either --image PATH or --test-index N');
      const v = await visualize({ checkpoint: f.checkpoint, image: f.image, testIndex: f.testIndex, data: f.data, out: f.out,
        maxPixels: f.maxPixels, channels: f.channels, seed: f.seed, backend: f.backend });
      const m = v.maps;
      if (f.json) {
        process.stdout.write(JSON.stringify({ source: v.source, out: f.out, classes: m.classes, probabilities: m.probabilities, predicted: m.classes[m.predicted],
          layers: m.layers.map((l) => ({ name: l.name, label: l.label, shape: l.shape, channels: l.channels,
            maps: l.maps?.map((a) => Array.from(a)), values: l.values && Array.from(l.values) })) }) + '\n');
        return;
      }
      process.stdout.write(`${v.source}: predicted ${m.classes[m.predicted]} (${(100 * m.probabilities[m.predicted]).toFixed(1)}%)\n`);
      process.stdout.write(`wrote ${f.out} (${v.picture.width}x${v.picture.height}, ${m.layers.length} layers, ${v.picture.tiles.length} maps)\n`);
      if (!v.picture.labelled) process.stdout.write('note: no TrueType font found (install fonts-dejavu-core or set VGG_CIFAR_FONT): the picture has no labels\n');
    });
}

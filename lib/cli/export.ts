// `vgg-cifar export`: a checkpoint to ONNX, a TensorFlow.js layers model, or a web page folder.
import type { Command } from 'commander';
import { Option } from 'commander';
import { EXPORT_FORMATS, exportModel, type ExportResult } from '../export/index.js';
import { inputContract } from '../export/source.js';

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a checkpoint as an ONNX model (opset 17), a TensorFlow.js layers model, or a web page that classifies images in the browser')
    .requiredOption('--checkpoint <file>', 'a .safetensors checkpoint (ours, or a state dict saved from PyTorch)')
    .requiredOption('--format <name>', `${EXPORT_FORMATS.join(', ')}`)
    .requiredOption('--out <path>', 'the .onnx file (onnx) or the folder (tfjs, web) to write')
    .option('--fold-bn', 'fold each BatchNorm into the convolution before it (inference form)')
    .option('--include-normalization', "put the CIFAR-10 mean/std into the model, so that it takes pixels / 255 (when the network was trained normalized)")
    .option('--force', 'replace an existing output (a folder only when it is an earlier export)')
    .addOption(new Option('--model <name>', 'architecture, for files that carry no configuration').choices(['vgg11', 'vgg13', 'vgg16', 'vgg19']))
    .option('--bn', 'the model has BatchNorm (files without configuration)')
    .addOption(new Option('--classifier <kind>', 'classifier (files without configuration)').choices(['report', 'standard', 'linear']))
    .option('--normalize', 'the model was trained on normalized inputs (files without configuration)')
    .option('--json', 'print one JSON object')
    .action((f: { checkpoint: string; format: string; out: string; foldBn?: boolean; includeNormalization?: boolean; force?: boolean;
      model?: 'vgg16'; bn?: boolean; classifier?: 'report'; normalize?: boolean; json?: boolean }) => {
      const r = exportModel(f.format, { checkpoint: f.checkpoint, out: f.out, foldBn: f.foldBn, includeNormalization: f.includeNormalization,
        force: f.force, model: f.model, batchNorm: f.bn, classifier: f.classifier, normalize: f.normalize });
      if (f.json) {
        process.stdout.write(JSON.stringify(r) + '\n');
        return;
      }
      process.stdout.write(describe(r));
    });
}

function describe(r: ExportResult): string {
  const what = { onnx: 'ONNX model (opset 17)', tfjs: 'TensorFlow.js layers model', web: 'web page' }[r.format];
  const lines = [`wrote ${r.out}: ${what}, ${r.files.length > 1 ? `${r.files.length} files, ` : ''}${mb(r.bytes)} in ${r.seconds.toFixed(2)} s`,
    `  ${r.info.description}${r.info.foldedBn ? ', BatchNorm folded' : ''}`];
  if (r.format !== 'web') lines.push(`  input ${inputContract(r.info, r.format === 'onnx' ? 'NCHW' : 'NHWC')}`);
  if (r.format === 'tfjs') lines.push(`  load it with tf.loadLayersModel('<url of ${r.out}>/model.json')`);
  if (r.format === 'web') lines.push(`  open it: vgg-cifar serve ${r.out}   (or any static file server; not from file://)`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join('\n') + '\n';
}

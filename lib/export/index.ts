// exportOnnx / exportTfjs / exportWeb: a checkpoint to a file or folder another runtime loads. Each
// loads and checks the checkpoint (source.ts), refuses an existing output unless forced (output.ts)
// and writes atomically: a failure at any point leaves no partial output and any earlier one intact.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic, writeFolderAtomic } from '../atomic-file.js';
import { loadExportSource, type ExportInfo, type ExportSourceOptions } from './source.js';
import { onnxBytes } from './onnx.js';
import { tfjsFiles } from './tfjs.js';
import { webFiles } from './web.js';
import { prepareOutput, type OutputFile } from './output.js';

export type ExportFormat = 'onnx' | 'tfjs' | 'web';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['onnx', 'tfjs', 'web'];

export interface ExportOptions extends ExportSourceOptions {
  /** The .onnx file (onnx) or the folder (tfjs, web) to write. */
  out: string;
  /** Replace an existing output (a folder only when it is empty or an earlier vgg-cifar export). */
  force?: boolean;
}

export interface ExportResult {
  format: ExportFormat;
  out: string;
  /** The files written: names inside `out` for folders, the file's own name for ONNX. */
  files: Array<{ name: string; bytes: number }>;
  bytes: number;
  info: ExportInfo;
  /** Things the caller asked for that did not apply (nothing to fold, nothing to normalize). */
  notes: string[];
  seconds: number;
}

export function exportOnnx(o: ExportOptions): ExportResult {
  return run('onnx', o, (src) => [{ name: basename(o.out), bytes: onnxBytes(src.graph, src.info) }]);
}

export function exportTfjs(o: ExportOptions): ExportResult {
  return run('tfjs', o, (src) => {
    const t = tfjsFiles(src.graph, src.info);
    return [{ name: 'model.json', bytes: t.modelJson }, ...t.shards];
  });
}

export function exportWeb(o: ExportOptions): ExportResult {
  return run('web', o, (src) => webFiles(onnxBytes(src.graph, src.info), src.info));
}

/** The API behind `vgg-cifar export --format F`. */
export function exportModel(format: string, o: ExportOptions): ExportResult {
  if (format === 'onnx') return exportOnnx(o);
  if (format === 'tfjs') return exportTfjs(o);
  if (format === 'web') return exportWeb(o);
  throw new RangeError(`export: unknown format '${format}' (choose ${EXPORT_FORMATS.join(', ')})`);
}

function run(format: ExportFormat, o: ExportOptions, files: (src: ReturnType<typeof loadExportSource>) => OutputFile[]): ExportResult {
  const t0 = performance.now();
  const kind = format === 'onnx' ? 'file' : 'folder';
  // The output is checked before the (slower) checkpoint work; its folder is made only once there is
  // something to write.
  const { replace } = prepareOutput(o.out, kind, !!o.force);
  const src = loadExportSource(o);
  const list = files(src);
  mkdirSync(dirname(o.out), { recursive: true });
  if (kind === 'file') {
    const [f] = list as Array<{ name: string; bytes: Uint8Array }>;
    writeFileAtomic(o.out, (fd) => writeFileSync(fd, f.bytes));
  } else {
    writeFolderAtomic(o.out, (dir) => {
      for (const f of list) {
        if ('copyOf' in f) copyFileSync(f.copyOf, join(dir, f.name));
        else writeFileSync(join(dir, f.name), f.bytes);
      }
    }, { replace });
  }
  const sizes = list.map((f) => ({ name: f.name, bytes: 'copyOf' in f ? f.size : typeof f.bytes === 'string' ? Buffer.byteLength(f.bytes) : f.bytes.byteLength }));
  const notes: string[] = [];
  if (o.foldBn && !src.info.config.batchNorm) notes.push('the model has no BatchNorm: there was nothing to fold (--fold-bn)');
  if (o.includeNormalization && !src.info.normalization) {
    notes.push('the network was trained on pixels / 255, without normalization: there was nothing to include (--include-normalization)');
  }
  return { format, out: o.out, files: sizes, bytes: sizes.reduce((a, f) => a + f.bytes, 0), info: src.info, notes, seconds: (performance.now() - t0) / 1000 };
}

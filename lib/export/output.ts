// Where an export goes: a new path, or (with force) one it may replace. Nothing a user made is
// replaced silently: an existing path needs force, and even with force a folder is replaced only when
// it is empty or an earlier vgg-cifar export (a typo like `--out ~ --force` must not empty a home).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isFolder } from '../atomic-file.js';

/** One file of an export: its bytes, or a file copied as it is (ONNX Runtime's). */
export type OutputFile = { name: string; bytes: Uint8Array | string } | { name: string; copyOf: string; size: number };

/** The generator tag that index.html and model.json carry, by which a later export recognizes them. */
export const GENERATOR_META = 'vgg-cifar';

export function prepareOutput(out: string, kind: 'file' | 'folder', force: boolean): { replace: boolean } {
  if (typeof out !== 'string' || out === '') throw new RangeError('export: give the output path (--out)');
  const exists = existsSync(out);
  if (!exists) return { replace: false };
  if (!force) throw new Error(`${out} exists; export does not replace it unless told to (--force, or force: true)`);
  if (kind === 'file' && isFolder(out)) throw new Error(`${out} is a folder; --format onnx writes one file (give a path like ${join(out, 'model.onnx')})`);
  if (kind === 'folder') {
    if (!isFolder(out)) throw new Error(`${out} is a file; this format writes a folder (give a new path)`);
    if (!isEarlierExport(out)) {
      throw new Error(`${out} is a folder that vgg-cifar did not write (no vgg-cifar model.json or index.html in it); ` +
        'refusing to replace it even with --force: give a new path');
    }
  }
  return { replace: true };
}

function isEarlierExport(dir: string): boolean {
  const names = readdirSync(dir);
  if (names.length === 0) return true;
  const read = (f: string) => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch {
      return '';
    }
  };
  if (names.includes('model.json')) {
    try {
      if (String(JSON.parse(read('model.json')).generatedBy ?? '').startsWith(GENERATOR_META)) return true;
    } catch {
      // not JSON: not ours
    }
  }
  return names.includes('index.html') && read('index.html').includes(`<meta name="generator" content="${GENERATOR_META}`);
}

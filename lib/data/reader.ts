// Reads the official CIFAR-10 binary batches into one preallocated Uint8Array of pixels and one of labels
// per split: each file is read whole into a reused Buffer and its records are copied out with
// Buffer.copy, so loading 60,000 images creates no per-record JS objects and is bounded by the disk.
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Cifar10Error } from './errors.js';
import { IMAGE_BYTES, META_FILE, NUM_CLASSES, RECORD_BYTES, splitFiles, type SplitName } from './layout.js';

/** One split held on the host: images [count, 3, 32, 32] uint8 in the file's planar RGB order, labels [count]. */
export interface Cifar10Split {
  readonly count: number;
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
}

/** Throws naming every file of `names` that `dir` lacks, and the folder searched. */
export async function requireFiles(dir: string, names: readonly string[]): Promise<void> {
  const missing: string[] = [];
  for (const name of names) {
    const s = await stat(join(dir, name)).catch(() => null);
    if (!s?.isFile()) missing.push(name);
  }
  if (missing.length > 0) {
    throw new Cifar10Error('missing', `CIFAR-10: missing ${missing.join(', ')} in ${dir}`);
  }
}

/** Class names from batches.meta.txt (one per line; blank lines ignored). */
export async function readClassNames(dir: string): Promise<string[]> {
  await requireFiles(dir, [META_FILE]);
  const path = join(dir, META_FILE);
  const names = (await readFile(path, 'utf8')).split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== NUM_CLASSES) {
    throw new Cifar10Error('malformed', `CIFAR-10: ${path} lists ${names.length} class names, expected ${NUM_CLASSES}`);
  }
  return names;
}

/** Number of records in a batch file of `bytes` bytes, or a descriptive error. */
export function recordCount(path: string, bytes: number): number {
  if (bytes === 0 || bytes % RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes / RECORD_BYTES);
    throw new Cifar10Error('malformed', `CIFAR-10: ${path} has ${bytes} bytes, which would be ${whole} records of ${RECORD_BYTES} bytes ` +
      `(1 label + ${IMAGE_BYTES} pixels) and ${bytes % RECORD_BYTES} bytes over; a batch file must hold a whole, non-zero number of records`);
  }
  return bytes / RECORD_BYTES;
}

async function readWhole(path: string, buf: Buffer, bytes: number): Promise<void> {
  const fh = await open(path, 'r');
  try {
    let off = 0;
    while (off < bytes) {
      const { bytesRead } = await fh.read(buf, off, bytes - off, off);
      if (bytesRead === 0) throw new Cifar10Error('malformed', `CIFAR-10: ${path} shrank while being read (${off} of ${bytes} bytes)`);
      off += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** Reads the batch files of one split from the folder that holds them (cifar-10-batches-bin itself). */
export async function readSplit(dir: string, split: SplitName): Promise<Cifar10Split> {
  const files = splitFiles(split);
  await requireFiles(dir, files);
  const paths = files.map((f) => join(dir, f));
  const sizes = await Promise.all(paths.map(async (p) => (await stat(p)).size));
  const counts = paths.map((p, i) => recordCount(p, sizes[i]));
  const count = counts.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  const buf = Buffer.allocUnsafe(Math.max(...sizes));
  let at = 0;
  for (let f = 0; f < paths.length; f++) {
    await readWhole(paths[f], buf, sizes[f]);
    for (let r = 0; r < counts[f]; r++) {
      const o = r * RECORD_BYTES;
      const label = buf[o];
      if (label >= NUM_CLASSES) {
        throw new Cifar10Error('malformed', `CIFAR-10: ${paths[f]}: record ${r} has label ${label}; labels must be 0-${NUM_CLASSES - 1}`);
      }
      labels[at] = label;
      // Buffer.copy is a memcpy with no view object per record (3-4x faster here than set(subarray)).
      buf.copy(images, at * IMAGE_BYTES, o + 1, o + RECORD_BYTES);
      at++;
    }
  }
  return { count, images, labels };
}

/** Images per class (index = label). */
export function classCounts(split: Cifar10Split): number[] {
  const counts = new Array<number>(NUM_CLASSES).fill(0);
  for (let i = 0; i < split.count; i++) counts[split.labels[i]]++;
  return counts;
}

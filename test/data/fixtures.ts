// Small CIFAR-format datasets and tar.gz archives built in the tests (random pixels and labels), and a
// minimal ustar writer so that archives can hold entries no well-behaved tar tool would write.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { IMAGE_BYTES, META_FILE, RECORD_BYTES, TEST_FILES, TRAIN_FILES } from '../../lib/data/layout.js';
import { Rng } from '../../lib/data/rng.js';

export const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `vgg-cifar-${tag}-`));
}

/** One batch file's bytes with `n` random records; labels cycle through the classes from `offset`. */
export function batchBytes(n: number, seed: number, offset = 0): { bytes: Buffer; images: Uint8Array; labels: Uint8Array } {
  const rng = new Rng(seed);
  const bytes = Buffer.alloc(n * RECORD_BYTES);
  const images = new Uint8Array(n * IMAGE_BYTES);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    labels[r] = (r + offset + rng.nextInt(3)) % 10;
    bytes[r * RECORD_BYTES] = labels[r];
    for (let k = 0; k < IMAGE_BYTES; k++) {
      const v = rng.nextUint32() & 255;
      bytes[r * RECORD_BYTES + 1 + k] = v;
      images[r * IMAGE_BYTES + k] = v;
    }
  }
  return { bytes, images, labels };
}

export interface Expected { train: { images: Uint8Array; labels: Uint8Array }; test: { images: Uint8Array; labels: Uint8Array }; files: Map<string, Buffer>; }

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

/** The files of a tiny dataset (`perFile` records in each of the six batch files) and what they hold. */
export function datasetFiles(perFile: number, seed = 1): Expected {
  const files = new Map<string, Buffer>();
  const parts = (names: readonly string[], base: number) => names.map((name, i) => {
    const b = batchBytes(perFile, seed * 100 + base + i, i);
    files.set(name, b.bytes);
    return b;
  });
  const train = parts(TRAIN_FILES, 0);
  const test = parts(TEST_FILES, 50);
  files.set(META_FILE, Buffer.from(CLASSES.join('\n') + '\n\n'));
  return {
    files,
    train: { images: concat(train.map((b) => b.images)), labels: concat(train.map((b) => b.labels)) },
    test: { images: concat(test.map((b) => b.images)), labels: concat(test.map((b) => b.labels)) },
  };
}

/** Writes the dataset's files into `dir` (created). */
export function writeDataset(dir: string, data: Expected): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of data.files) writeFileSync(join(dir, name), bytes);
}

export interface TarEntry { name: string; type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev'; data?: Buffer; link?: string; }

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', chardev: '3', dir: '5' } as const;

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s, off, Math.min(len, Buffer.byteLength(s)), 'utf8');
  const oct = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, '0') + '\0', off, len);
  if (Buffer.byteLength(e.name) > 100) throw new Error(`tar test writer: name too long: ${e.name}`);
  put(e.name, 0, 100);
  oct(e.type === 'dir' ? 0o755 : 0o644, 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(size, 124, 12);
  oct(1_700_000_000, 136, 12);
  h.fill(' ', 148, 156);
  put(TYPEFLAG[e.type ?? 'file'], 156, 1);
  if (e.link) put(e.link, 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

/** A gzip-compressed ustar archive of `entries`, written verbatim (no path cleaning). */
export function tarGz(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === undefined || e.type === 'file' ? e.data ?? Buffer.alloc(0) : Buffer.alloc(0);
    blocks.push(header(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** Entries of an archive laid out like the official one, holding `data`. */
export function officialEntries(data: Expected): TarEntry[] {
  return [
    { name: 'cifar-10-batches-bin/', type: 'dir' },
    ...[...data.files].map(([name, bytes]) => ({ name: `cifar-10-batches-bin/${name}`, data: bytes })),
    { name: 'cifar-10-batches-bin/readme.html', data: Buffer.from('<html></html>') },
  ];
}

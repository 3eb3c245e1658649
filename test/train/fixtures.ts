// A learnable CIFAR-format dataset made in the test: each class has its own colour and a stripe at a
// class-dependent position, plus noise, so a small VGG can reach high accuracy in a few hundred steps.
// And what a killed run leaves behind: a dead pid, a lock file naming it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGE_BYTES, META_FILE, RECORD_BYTES, TEST_FILES, TRAIN_FILES } from '../../lib/data/layout.js';
import { Rng } from '../../lib/data/rng.js';
import { acquireLock, LOCK_FILE } from '../../lib/train/lock.js';
import { CLASSES, tempDir } from '../data/fixtures.js';

function record(label: number, rng: Rng, out: Buffer, at: number): void {
  out[at] = label;
  const colour = [(label * 53) % 256, (label * 97 + 80) % 256, (label * 151 + 160) % 256];
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const stripe = Math.abs(y - label * 3 - 2) <= 1 ? 90 : 0;
        const v = colour[c] * 0.6 + stripe + (rng.nextUint32() % 60);
        out[at + 1 + c * 1024 + y * 32 + x] = Math.min(255, Math.round(v));
      }
    }
  }
}

/** Writes `cifar-10-batches-bin/` under `dir` with `perFile` records in each of the six batch files. */
export function writeLearnableDataset(dir: string, perFile: number, seed = 7): string {
  const bin = join(dir, 'cifar-10-batches-bin');
  mkdirSync(bin, { recursive: true });
  const rng = new Rng(seed);
  for (const name of [...TRAIN_FILES, ...TEST_FILES]) {
    const buf = Buffer.alloc(perFile * RECORD_BYTES);
    for (let r = 0; r < perFile; r++) record(rng.nextInt(10), rng, buf, r * RECORD_BYTES);
    writeFileSync(join(bin, name), buf);
  }
  writeFileSync(join(bin, META_FILE), CLASSES.join('\n') + '\n');
  void IMAGE_BYTES;
  return dir;
}

/** A state dict's tensors by name (checkpoint.model, .training, …). */
export type Dict = Map<string, { data: ArrayLike<number | bigint> }>;

/** The largest absolute difference between two state dicts with the same keys. */
export function maxDiff(a: Dict, b: Dict): number {
  if ([...a.keys()].sort().join() !== [...b.keys()].sort().join()) throw new Error('maxDiff: the state dicts have different keys');
  let m = 0;
  for (const [k, t] of a) {
    const u = b.get(k)!;
    for (let i = 0; i < t.data.length; i++) m = Math.max(m, Math.abs(Number(t.data[i]) - Number(u.data[i])));
  }
  return m;
}

/** The pid of a process that has exited (for locks left by a killed run). */
export function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

/** Writes `dir`/run.lock as another process would have left it: this process's lock with `over` changed. */
export function plantLock(dir: string, over: Record<string, unknown>): string {
  const { lock } = acquireLock(tempDir('lock-template'), 'planted');
  const text = JSON.stringify({ ...JSON.parse(readFileSync(lock.path, 'utf8')), ...over });
  lock.release();
  writeFileSync(join(dir, LOCK_FILE), text);
  return text;
}

// Crashes in the middle of work: kill -9 at random moments (some during a checkpoint write), a disk that
// fills up, an output folder that is read-only, a loss that goes non-finite. After each, the newest
// checkpoint on disk is complete and --resume continues from it; nothing announced as saved is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointsIn, killCampaign, runCli, writeTinyDataset } from '../../bench/kill.js';
import { loadCheckpoint } from '../../lib/nn/checkpoint.js';
import { runTraining } from '../../lib/train/loop.js';
import { resolveTrainOptions } from '../../lib/train/options.js';

const root = mkdtempSync(join(tmpdir(), 'vgg-cifar-crash-'));
const data = writeTinyDataset(join(root, 'data'), 16);
const flags = (out: string, extra: string[] = []) => ['train', '--data', data, '--out', out, '--model', 'vgg11', '--width-divisor', '8', '--bn',
  '--optimizer', 'sgd', '--lr', '0.05', '--batch-size', '16', '--limit', '64', '--no-eval', '--save-every', '1', '--threads', '1', '--seed', '5',
  '--no-progress', ...extra];
const mounts: string[] = [];

function tryMount(dir: string, bytes: number): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'ignore' });
    mounts.push(dir);
    return true;
  } catch {
    return false;
  }
}

let first = '';
beforeAll(async () => {
  const r = await runCli(flags(join(root, 'first'), ['--epochs', '1']));
  expect(r.code, r.stderr).toBe(0);
  first = join(root, 'first', 'cifar10_epoch_1.safetensors');
});

afterAll(() => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', [m], { stdio: 'ignore' });
    } catch {
      // left for the OS
    }
  }
  rmSync(root, { recursive: true, force: true });
});

const canMount = (() => {
  const probe = mkdtempSync(join(tmpdir(), 'vgg-cifar-mount-'));
  const ok = process.getuid?.() === 0 && tryMount(probe, 65536);
  if (ok) execFileSync('umount', [probe]);
  mounts.pop();
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();

describe('kill -9 in the middle of training', () => {
  it('5 SIGKILLs at random moments (some during a checkpoint write): checkpoints complete, resume exact, nothing saved is lost', async () => {
    const r = await killCampaign(5, 2024, 4, false); // --no-report keeps it short; npm run fuzz kills with the report on
    expect(r.problems).toEqual([]);
    expect(r.kills).toBeGreaterThanOrEqual(3);
    // the run resumed from the checkpoints left by the kills and ended bit-identical to an uninterrupted one
    expect(r.maxDiff).toBe(0);
  });
});

describe('a full disk and a read-only output folder', () => {
  it.skipIf(!canMount)('disk full while saving: a clear error naming the file, the previous checkpoint kept intact, no temp file left', async () => {
    const size = statSync(first).size;
    const disk = join(root, 'full');
    expect(tryMount(disk, Math.ceil((size * 1.5) / 4096) * 4096)).toBe(true);
    const kept = join(disk, 'cifar10_epoch_1.safetensors');
    copyFileSync(first, kept);
    const before = readFileSync(kept);
    const r = await runCli(flags(disk, ['--epochs', '3', '--resume', kept]));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write \S+cifar10_epoch_2\.safetensors: the disk is full \(ENOSPC\); nothing was written; the last good checkpoint is \S+cifar10_epoch_1\.safetensors/);
    expect(readdirSync(disk)).toEqual(['cifar10_epoch_1.safetensors']);
    expect(readFileSync(kept).equals(before)).toBe(true);
    expect(loadCheckpoint(kept).epoch).toBe(1);
  });

  it.skipIf(!canMount)('read-only output folder: refused before training starts, with a clear error; the checkpoint there is kept', async () => {
    const ro = join(root, 'ro');
    expect(tryMount(ro, 4 * 2 ** 20)).toBe(true);
    const kept = join(ro, 'cifar10_epoch_1.safetensors');
    copyFileSync(first, kept);
    execFileSync('mount', ['-o', 'remount,ro', ro]);
    const r = await runCli(flags(ro, ['--epochs', '3', '--resume', kept]));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write checkpoints to \S+ro: the file system is read-only \(EROFS\)/);
    expect(r.stdout).not.toMatch(/^epoch \d/m);
    expect(loadCheckpoint(kept).epoch).toBe(1);
  });
});

describe('non-finite loss', () => {
  it('stops at the bad reading, names the layer whose gradients went bad, and keeps the last good checkpoint untouched', async () => {
    const out = join(root, 'nan');
    // one good epoch without BatchNorm (which would keep even lr 100 finite), then lr 100 from its checkpoint
    const o = resolveTrainOptions({ data, out, backend: 'cpu', model: 'vgg11', widthDivisor: 8, batchNorm: false, optimizer: 'sgd', lr: 0.01,
      momentum: 0.9, batchSize: 16, limit: 64, epochs: 1, display: 1, evalEveryEpoch: false, saveEvery: 1, threads: 1, seed: 5 });
    await runTraining(o);
    const good = join(out, 'cifar10_epoch_1.safetensors');
    const before = readFileSync(good);
    const h = await runTraining({ ...o, epochs: 4, lr: 100, resume: good });
    expect(h.stoppedOnNonFinite).toBe(true);
    const w = h.warnings.find((x) => x.kind === 'non-finite')!;
    expect(w.message).toMatch(/the training loss became (NaN|Infinity|-Infinity) at step \d+/);
    expect(w.message).toMatch(/gradients first go non-finite at net\.\d+\.(weight|bias) \((Linear|Conv2d|BatchNorm2d) net\.\d+\)|every parameter gradient is finite/);
    expect(h.steps.at(-1)!.step).toBeLessThanOrEqual(12);
    expect(h.steps.at(-1)!.step).toBeGreaterThan(4);
    // nothing written after the bad step; the good state on disk is byte-for-byte what it was
    expect(h.checkpoints).toEqual([]);
    expect(checkpointsIn(out).map((c) => c.epoch)).toEqual([1]);
    expect(readFileSync(good).equals(before)).toBe(true);
    const ck = loadCheckpoint(good);
    for (const t of ck.model.values()) if (t.data instanceof Float32Array) expect(t.data.every(Number.isFinite)).toBe(true);
  });
});

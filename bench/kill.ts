// Kill -9 in the middle of training: starts `vgg-cifar train` (tiny VGG, a checkpoint every epoch) as a
// child process, SIGKILLs it at a random moment (some of them the instant a checkpoint's temp file
// appears, i.e. during the write), then checks that every checkpoint on disk loads completely, that none
// the run announced is missing, and resumes from the newest. The last run goes to the end; its weights
// must equal those of a run never interrupted (resume is exact), so no work before a checkpoint is lost.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../lib/backend.js';
import { IMAGE_BYTES, META_FILE, RECORD_BYTES, TEST_FILES, TRAIN_FILES } from '../lib/data/layout.js';
import { Rng } from '../lib/data/rng.js';
import { loadCheckpoint, type Checkpoint } from '../lib/nn/checkpoint.js';
import { LOCK_FILE } from '../lib/train/lock.js';

/** What lib/report writes next to the checkpoints after every epoch, and the lock a killed run leaves
 *  (the next run takes it over). */
const REPORT_FILES = ['run.json', 'report.html', 'feature-maps.png', LOCK_FILE];

export const CLI = () => join(packageRoot(), 'dist', 'lib', 'cli', 'main.js');

/** Class-coloured noise in the CIFAR-10 binary layout: `perFile` records in each batch file. */
export function writeTinyDataset(dir: string, perFile: number, seed = 3): string {
  const bin = join(dir, 'cifar-10-batches-bin');
  mkdirSync(bin, { recursive: true });
  const rng = new Rng(seed);
  for (const name of [...TRAIN_FILES, ...TEST_FILES]) {
    const b = Buffer.alloc(perFile * RECORD_BYTES);
    for (let r = 0; r < perFile; r++) {
      const label = rng.nextInt(10);
      b[r * RECORD_BYTES] = label;
      for (let k = 0; k < IMAGE_BYTES; k++) b[r * RECORD_BYTES + 1 + k] = (label * 24 + (rng.nextUint32() & 63)) & 255;
    }
    writeFileSync(join(bin, name), b);
  }
  writeFileSync(join(bin, META_FILE), 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n');
  return dir;
}

export interface RunResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; saved: string[]; killedDuringWrite: boolean }

/** Runs the CLI; with `kill`, SIGKILLs it `kill.afterMs` after training starts, or at the first temp file
 *  of a checkpoint write when `kill.onWrite` (falling back to the delay). `follow.onStdout` sees all the
 *  output so far as it comes (to act while the run goes on); `follow.cwd` is its working folder. */
export function runCli(args: string[], kill?: { afterMs: number; onWrite: boolean; out: string }, env: NodeJS.ProcessEnv = {},
  follow: { cwd?: string; onStdout?: (stdout: string, pid: number) => void } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI(), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: follow.cwd });
    const r: RunResult = { code: null, signal: null, stdout: '', stderr: '', saved: [], killedDuringWrite: false };
    let timer: NodeJS.Timeout | undefined;
    let watcher: ReturnType<typeof watch> | undefined;
    const killNow = (duringWrite: boolean) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      r.killedDuringWrite = duringWrite;
      child.kill('SIGKILL');
    };
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      r.stdout += s;
      for (const m of s.matchAll(/^saved (.+)$/gm)) r.saved.push(m[1]);
      follow.onStdout?.(r.stdout, child.pid!);
      if (kill && !timer && /training /.test(r.stdout)) {
        timer = setTimeout(() => killNow(false), kill.afterMs);
        if (kill.onWrite) {
          mkdirSync(kill.out, { recursive: true });
          watcher = watch(kill.out, (_e, f) => { if (f && /\.safetensors\..*\.tmp$/.test(String(f))) killNow(true); });
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { r.stderr += s; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      watcher?.close();
      r.code = code;
      r.signal = signal;
      resolve(r);
    });
  });
}

export const checkpointsIn = (out: string): { epoch: number; path: string }[] => (existsSync(out) ? readdirSync(out) : [])
  .map((f) => ({ f, m: /^cifar10_epoch_(\d+)\.safetensors$/.exec(f) }))
  .filter((x) => x.m)
  .map((x) => ({ epoch: Number(x.m![1]), path: join(out, x.f) }))
  .sort((a, b) => a.epoch - b.epoch);

export interface KillReport {
  kills: number;
  duringWrite: number;
  /** Epochs of the newest checkpoint after each kill. */
  newest: number[];
  /** Announced checkpoints missing from disk, partial checkpoints, wrong resume points: must stay empty. */
  problems: string[];
  /** Hidden temp files left by kills during a write (never read as checkpoints). */
  tempFilesLeft: number;
  /** Largest difference between the final weights and those of an uninterrupted run. */
  maxDiff: number;
  seconds: number;
}

const maxDiff = (a: Checkpoint, b: Checkpoint): number => {
  let m = 0;
  for (const [k, t] of a.model) {
    const u = b.model.get(k);
    if (!u) return Infinity;
    for (let i = 0; i < t.data.length; i++) m = Math.max(m, Math.abs(Number(t.data[i]) - Number(u.data[i])));
  }
  return m;
};

/** `kills` SIGKILLs of training runs of `epochs` tiny epochs (25 steps each); each run is resumed from
 *  the newest checkpoint until one completes, whose weights must equal the uninterrupted run's. `report`:
 *  write run.json/report.html every epoch as by default (slower; their atomic writes are checked too). */
export async function killCampaign(kills: number, seed: number, epochs = 6, report = true): Promise<KillReport> {
  const t0 = performance.now();
  const root = mkdtempSync(join(tmpdir(), 'vgg-cifar-kill-'));
  const steps = 25;
  const data = writeTinyDataset(join(root, 'data'), Math.ceil((16 * steps) / 5));
  const args = (out: string, resume?: string) => ['train', '--data', data, '--out', out, '--model', 'vgg11', '--width-divisor', '8', '--bn',
    '--optimizer', 'sgd', '--lr', '0.05', '--momentum', '0.9', '--batch-size', '16', '--limit', String(16 * steps), '--no-eval',
    '--save-every', '1', '--epochs', String(epochs), '--threads', '1', '--seed', '5', '--augment', '--no-progress', ...(report ? [] : ['--no-report']),
    ...(resume ? ['--resume', resume] : [])];
  const straightOut = join(root, 'straight');
  const started = performance.now();
  const straight = await runCli(args(straightOut));
  if (straight.code !== 0) throw new Error(`the uninterrupted run failed: ${straight.stderr}`);
  const window = performance.now() - started; // kill moments are drawn over a whole run, start-up included
  const reference = loadCheckpoint(join(straightOut, `cifar10_epoch_${epochs}.safetensors`));
  const keys = reference.model.size;

  const rng = new Rng(seed);
  const rep: KillReport = { kills: 0, duringWrite: 0, newest: [], problems: [], tempFilesLeft: 0, maxDiff: 0, seconds: 0 };
  const finish = (out: string, r: RunResult) => {
    if (r.code !== 0) {
      rep.problems.push(`a run failed: ${r.stderr.slice(-400)}`);
      return;
    }
    rep.maxDiff = Math.max(rep.maxDiff, maxDiff(reference, loadCheckpoint(join(out, `cifar10_epoch_${epochs}.safetensors`))));
    rep.tempFilesLeft += readdirSync(out).filter((f) => f.endsWith('.tmp')).length;
  };
  // Rounds of: kill, check, resume, ... until a run completes (then compare with the uninterrupted run).
  for (let round = 0; rep.kills < kills && round < kills * 3; round++) {
    const out = join(root, `killed-${round}`);
    let resume: string | undefined;
    for (;;) {
      const done = checkpointsIn(out).at(-1)?.epoch ?? 0;
      // a moment anywhere in what is left of the run
      const afterMs = rng.nextInt(Math.max(1, Math.round(window * Math.max(0.3, (epochs - done) / epochs))));
      const r = await runCli(args(out, resume), rep.kills < kills ? { afterMs, onWrite: rng.nextInt(3) === 0, out } : undefined);
      if (r.signal !== 'SIGKILL') {
        finish(out, r);
        break;
      }
      const k = rep.kills++;
      if (r.killedDuringWrite) rep.duringWrite++;
      const cks = checkpointsIn(out);
      const newest = cks.at(-1);
      rep.newest.push(newest?.epoch ?? 0);
      for (const saved of r.saved) if (!existsSync(saved)) rep.problems.push(`kill ${k}: ${saved} was announced as saved but is missing`);
      if ((newest?.epoch ?? 0) < done) rep.problems.push(`kill ${k}: the newest checkpoint went back from epoch ${done} to ${newest?.epoch}`);
      for (const c of cks) {
        try {
          const ck = loadCheckpoint(c.path);
          if (ck.epoch !== c.epoch || ck.step !== c.epoch * steps || ck.model.size !== keys || !ck.optimizer) {
            rep.problems.push(`kill ${k}: ${c.path} is incomplete (epoch ${ck.epoch}, step ${ck.step}, ${ck.model.size} of ${keys} tensors)`);
          }
        } catch (e) {
          rep.problems.push(`kill ${k}: ${c.path} does not load: ${(e as Error).message}`);
        }
      }
      const stray = readdirSync(out).filter((f) => !f.startsWith('.') && !/^cifar10_epoch_\d+\.safetensors$/.test(f) && !REPORT_FILES.includes(f));
      if (stray.length) rep.problems.push(`kill ${k}: unexpected files: ${stray.join(', ')}`);
      // the report files next to the checkpoints are written atomically too: never half a JSON
      if (existsSync(join(out, 'run.json'))) {
        try {
          JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
        } catch (e) {
          rep.problems.push(`kill ${k}: run.json is not valid JSON: ${(e as Error).message}`);
        }
      }
      if (resume && r.stdout.includes('vgg-cifar: training') && !r.stdout.includes(`resumed from ${resume}: ${done} epochs and 0 steps`)) {
        rep.problems.push(`kill ${k}: the run did not say it resumed from ${resume}: ${r.stdout.slice(0, 300)}`);
      }
      resume = newest?.path;
      if (newest?.epoch === epochs) {
        // killed after the last checkpoint: nothing is left to interrupt in this round
        rep.maxDiff = Math.max(rep.maxDiff, maxDiff(reference, loadCheckpoint(newest.path)));
        break;
      }
    }
  }
  rep.seconds = (performance.now() - t0) / 1000;
  return rep;
}

// One run per folder: where a training run writes, and the checks that keep it from writing over
// another run's files. Without `out` a run gets a fresh folder `<runsDir>/<date>-<time>-<model>` (made
// with an exclusive mkdir, so two runs started in the same second get two folders) and
// `<runsDir>/latest` points at it; `resume` continues in the checkpoint's folder. Before anything is
// written the folder is locked (lock.ts) and its files are read: checkpoints, run.json and the report of
// another run (told apart by the run id in run.json and in each checkpoint), or this run's checkpoints
// past the resume point, refuse the run unless `overwrite` says to remove them.
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, renameSync, rmdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { checkpointHeader, ensureWritableFolder } from '../nn/checkpoint.js';
import { tempName } from '../atomic-file.js';
import { MAPS_FILE, MAPS_META, readRunRecord, REPORT_FILE, RUN_FILE } from './run-file.js';
import { acquireLock, type RunLock } from './lock.js';
import { RunFolderError } from './run-folder-error.js';
import type { TrainOptions } from './options.js';

export const LATEST = 'latest';
const CHECKPOINT = /^cifar10_(epoch_\d+|interrupted)\.safetensors$/;
const PAGES = [REPORT_FILE, MAPS_FILE, MAPS_META];

/** A file of some run found in a folder. */
interface RunFile {
  name: string;
  kind: 'checkpoint' | 'record' | 'page';
  /** null: written before run ids, or unreadable. */
  runId: string | null;
  step: number | null;
  unreadable?: true;
  /** How the refusal message shows it. */
  label: string;
}

/** Where a resumed run starts: the checkpoint, its run and its step. */
export interface ResumePoint { path: string; runId: string | null; step: number }

const pad = (n: number) => String(n).padStart(2, '0');
const stamp = (d: Date) => `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;

/** Makes `<runsDir>/<date>-<time>-<label>` (local time), or `…-2`, `…-3` when a run of the same second has it. */
export function freshRunFolder(runsDir: string, label: string, now = new Date()): string {
  mkdirSync(runsDir, { recursive: true });
  const base = `${stamp(now)}-${label}`;
  for (let k = 1; ; k++) {
    const dir = join(runsDir, k === 1 ? base : `${base}-${k}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || k >= 10000) throw e;
    }
  }
}

/** Points `<runsDir>/latest` at `dir` (a relative link, replaced atomically). Returns the previous target
 *  (to restore), or a notice when it cannot (a file or folder of the user's has that name, no symlinks). */
function pointLatest(runsDir: string, dir: string): { previous: string | null; notice: string | null } {
  const link = join(runsDir, LATEST);
  let previous: string | null = null;
  try {
    if (!lstatSync(link).isSymbolicLink()) return { previous, notice: `${link} is not a link made by vgg-cifar; left as it is` };
    previous = readlinkSync(link);
  } catch {
    // no link yet
  }
  const tmp = join(runsDir, tempName(link, process.pid, randomBytes(4).toString('hex')));
  try {
    symlinkSync(basename(dir), tmp);
    renameSync(tmp, link);
    return { previous, notice: null };
  } catch (e) {
    return { previous, notice: `could not point ${link} at ${dir}: ${(e as Error).message}` };
  }
}

/** The run files in `dir`, each with its run id (read from the checkpoint's header, not its tensors). */
function inventory(dir: string): RunFile[] {
  const files: RunFile[] = [];
  let record: Pick<RunFile, 'runId' | 'label' | 'unreadable'> | null = null;
  for (const name of readdirSync(dir).sort()) {
    if (CHECKPOINT.test(name)) {
      try {
        const h = checkpointHeader(join(dir, name));
        files.push({ name, kind: 'checkpoint', runId: h.runId, step: h.step,
          label: `${name} (${h.runId ? `run ${h.runId}` : 'no run id'}, epoch ${h.epoch ?? '?'}, step ${h.step ?? '?'})` });
      } catch {
        files.push({ name, kind: 'checkpoint', runId: null, step: null, unreadable: true, label: `${name} (unreadable)` });
      }
    } else if (name === RUN_FILE) {
      try {
        const r = readRunRecord(dir);
        record = { runId: r.runId ?? null, label: `${name} (${r.runId ? `run ${r.runId}` : 'no run id'}, ${r.status}, ${r.epochs.length} epoch${r.epochs.length === 1 ? '' : 's'})` };
      } catch {
        record = { runId: null, unreadable: true, label: `${name} (unreadable)` };
      }
      files.push({ name, kind: 'record', step: null, ...record });
    } else if (PAGES.includes(name)) {
      files.push({ name, kind: 'page', runId: null, step: null, label: name });
    }
  }
  // report.html and the feature maps are drawn from run.json: they are its run's.
  for (const f of files) if (f.kind === 'page') f.runId = record?.runId ?? null;
  return files;
}

/** The folder's files another run wrote, and this run's checkpoints past the resume point. */
function inTheWay(files: RunFile[], resume: ResumePoint | null): { foreign: RunFile[]; later: RunFile[] } {
  if (!resume) return { foreign: files, later: [] };
  const hasRecord = files.some((f) => f.kind === 'record');
  // Files from before run ids cannot be told apart: a resume takes them for its run's (past the resume
  // point they are still refused), so a folder of an older version goes on being resumed.
  const ours = (f: RunFile) => !f.unreadable && (f.runId === resume.runId || f.runId === null) && (f.kind !== 'page' || hasRecord);
  return {
    foreign: files.filter((f) => !ours(f)),
    later: files.filter((f) => ours(f) && f.kind === 'checkpoint' && f.step !== null && f.step > resume.step),
  };
}

/** The files, one kind a line: checkpoints and run.json with their run, the report's pages together. */
function list(fs: RunFile[]): string {
  const pages = fs.filter((f) => f.kind === 'page').map((f) => f.name);
  return [...fs.filter((f) => f.kind !== 'page').map((f) => f.label), ...(pages.length ? [pages.join(', ')] : [])].map((l) => `\n  ${l}`).join('');
}

/** The ways out, one a line. */
const choices = (c: Array<[string, string]>) => `\nNothing was written. Either:${c.map(([what, how]) => `\n  ${(what + ':').padEnd(28)}${how}`).join('')}`;

function refusal(dir: string, files: RunFile[], resume: ResumePoint | null, runsDir: string): RunFolderError | null {
  const { foreign, later } = inTheWay(files, resume);
  const names = [...foreign, ...later].map((f) => f.name);
  const elsewhere: [string, string] = ['write this run elsewhere', `--out <new folder>${resume ? '' : ` (without --out every run gets a fresh folder under ${runsDir}/)`}`];
  const replace: [string, string] = ['replace them', '--overwrite'];
  if (foreign.length && !resume) {
    const newest = files.filter((f) => f.kind === 'checkpoint' && f.step !== null).sort((a, b) => b.step! - a.step!)[0];
    return new RunFolderError('out-holds-another-run', `${dir} already holds another training run's files:${list(foreign)}` +
      choices([...(newest ? [['continue that run', `--resume ${join(dir, newest.name)}`] as [string, string]] : []), elsewhere, replace]),
    { folder: dir, files: names });
  }
  if (foreign.length) {
    return new RunFolderError('out-holds-another-run', `${dir} holds files of another run than the one resumed from ${resume!.path} ` +
      `(${resume!.runId ? `run ${resume!.runId}` : 'no run id'}):${list(foreign)}` +
      `${later.length ? `\nand checkpoints of this run past the resume point (step ${resume!.step}):${list(later)}` : ''}` +
      choices([elsewhere, replace]), { folder: dir, files: names });
  }
  if (later.length) {
    return new RunFolderError('out-holds-later-checkpoints', `${dir} holds checkpoints of this run past the resume point (${resume!.path}, ` +
      `step ${resume!.step}); resuming from it would replace them:${list(later)}` +
      choices([['resume from the newest', `--resume ${join(dir, later.sort((a, b) => b.step! - a.step!)[0].name)}`], ['branch off', '--out <new folder>'], replace]),
    { folder: dir, files: names });
  }
  return null;
}

/** A symlinked folder (runs/latest) is followed once, so that moving the link later cannot redirect a running run. */
function followLinks(dir: string): string {
  if (!existsSync(dir)) return dir;
  const real = realpathSync(dir);
  return real === resolve(dir) ? dir : real;
}

/** A run's claim on its folder, released when it ends. */
export interface ClaimedFolder {
  out: string;
  lock: RunLock;
  /** One-line notices: a stale lock taken over, files removed by `overwrite`, `latest` not updated. */
  notices: string[];
  /** Releases the lock; a fresh folder the run left empty (it failed before writing) is removed. */
  finish(): void;
}

/** Picks, checks and locks the run's folder; throws RunFolderError (nothing written) when it is not the run's to write. */
export function claimRunFolder(o: Pick<TrainOptions, 'out' | 'resume' | 'runsDir' | 'overwrite' | 'model' | 'batchNorm'>, runId: string,
  resume: ResumePoint | null): ClaimedFolder {
  const fresh = o.out === null && !o.resume;
  const out = fresh ? freshRunFolder(o.runsDir, `${o.model}${o.batchNorm ? '-bn' : ''}`) : followLinks(o.out ?? dirname(o.resume!));
  const notices: string[] = [];
  ensureWritableFolder(out); // a read-only or unwritable folder fails now, not after the first epoch
  const { lock, notice } = acquireLock(out, runId);
  if (notice) notices.push(notice);
  try {
    const refused = refusal(out, inventory(out), resume, o.runsDir);
    if (refused && !o.overwrite) throw refused;
    if (refused) {
      for (const name of refused.files) unlinkSync(join(out, name));
      notices.push(`--overwrite: removed from ${out}: ${refused.files.join(', ')}`);
    }
  } catch (e) {
    lock.release();
    throw e;
  }
  const latest = fresh ? pointLatest(o.runsDir, out) : null;
  if (latest?.notice) notices.push(latest.notice);
  return {
    out, lock, notices,
    finish() {
      lock.release();
      if (!fresh || readdirSync(out).length > 0) return;
      rmdirSync(out);
      const link = join(o.runsDir, LATEST);
      try {
        // Back to the run it named before, unless another run has moved it since.
        if (readlinkSync(link) !== basename(out)) return;
        unlinkSync(link);
        if (latest?.previous) symlinkSync(latest.previous, link);
      } catch {
        // gone or replaced meanwhile
      }
    },
  };
}

// run.lock: one training run at a time in a run folder. The file names its process (pid, host, start
// time, command); it is created whole or not at all (written to a temp name, then hard-linked, which
// fails when a lock is there), so a reader never sees half of one. A lock whose process is gone (killed,
// the machine restarted, the pid now another program's) is taken over; one held by a live process, or by
// a process on another host that cannot be checked from here, refuses the run.
import { closeSync, fsyncSync, linkSync, lstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { removeStaleTemps, tempName } from '../atomic-file.js';
import { RunFolderError, type LockHolder } from './run-folder-error.js';

export const LOCK_FILE = 'run.lock';

interface LockRecord extends LockHolder {
  format: 'vgg-cifar-lock';
  /** Linux's boot id: a lock from an earlier boot is stale whatever its pid. */
  bootId: string | null;
  /** The holder's start time in clock ticks since boot (/proc/PID/stat): a reused pid has another. */
  processStart: string | null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

const bootId = () => readText('/proc/sys/kernel/random/boot_id')?.trim() || null;

function processStart(pid: number): string | null {
  const stat = readText(`/proc/${pid}/stat`);
  // Field 22; the command name (field 2, in parentheses) may itself hold spaces and parentheses.
  return stat ? (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null) : null;
}

function parse(text: string): LockRecord | null {
  try {
    const r = JSON.parse(text) as LockRecord;
    return r?.format === 'vgg-cifar-lock' && Number.isInteger(r.pid) && typeof r.host === 'string' ? r : null;
  } catch {
    return null;
  }
}

export type HolderState = { state: 'live' } | { state: 'gone'; why: string } | { state: 'elsewhere' };

/** Whether the lock's process still runs. */
export function judge(r: LockRecord | null): HolderState {
  if (!r) return { state: 'gone', why: 'is unreadable (not written by a vgg-cifar run)' };
  if (r.host !== hostname()) return { state: 'elsewhere' };
  const boot = bootId();
  if (r.bootId && boot && r.bootId !== boot) return { state: 'gone', why: 'was left before the machine restarted' };
  try {
    process.kill(r.pid, 0);
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return { state: 'gone', why: 'was left by a process that no longer runs' };
  }
  const now = processStart(r.pid);
  if (r.processStart && now && now !== r.processStart) return { state: 'gone', why: 'was left by a process whose pid now belongs to another program' };
  return { state: 'live' };
}

const holder = (r: LockRecord): LockHolder => ({ pid: r.pid, host: r.host, startedAt: r.startedAt, runId: r.runId, command: r.command });
const describe = (r: LockRecord) => `process ${r.pid} on ${r.host} (run ${r.runId}, started ${r.startedAt}, command: ${r.command})`;

function inUse(dir: string, path: string, r: LockRecord, elsewhere: boolean): RunFolderError {
  const msg = elsewhere
    ? `${dir} is in use by another training run: ${describe(r)}, which cannot be checked from ${hostname()}. ` +
      `Pick another --out, or, if that run is over (its process killed, its machine restarted), delete ${path}.`
    : `${dir} is in use by another training run: ${describe(r)}. Wait for it to finish or stop it, or pick another --out.`;
  return new RunFolderError('run-in-progress', msg, { folder: dir, holder: holder(r) });
}

/** A hidden name beside `path` for this process; one a killed process left is removed by the next run. */
const sideName = (path: string, kind: string) => join(dirname(path), tempName(path, process.pid, `${randomBytes(4).toString('hex')}-${kind}`));

/** Creates `path` holding `text` only when no file is there; false when one is. */
function createExclusive(path: string, text: string): boolean {
  const tmp = sideName(path, 'tmp');
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw e;
    // A file system without hard links: exclusive creation, then the content (a moment half-written).
    try {
      const fd2 = openSync(path, 'wx', 0o644);
      writeSync(fd2, text);
      closeSync(fd2);
      return true;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e2;
    }
  } finally {
    unlinkSync(tmp);
  }
}

/** Removes the stale lock `text` at `path`, unless another process replaced it meanwhile. */
function removeIfUnchanged(path: string, text: string): boolean {
  const aside = sideName(path, 'stale');
  try {
    renameSync(path, aside);
  } catch {
    return false; // someone else took it away first
  }
  if (readText(aside) === text) {
    unlinkSync(aside);
    return true;
  }
  // A fresh lock of a process that took over in between: put it back.
  try {
    linkSync(aside, path);
  } catch {
    // a third process got there first; its lock stands
  }
  unlinkSync(aside);
  return false;
}

/** The lock this process holds on a run folder. */
export class RunLock {
  constructor(readonly path: string, private readonly text: string) {}

  /** False when the file is gone or names another run (deleted by hand, or taken over). */
  held(): boolean {
    return readText(this.path) === this.text;
  }

  /** Called before each write into the folder: a run that lost its lock stops instead of mixing files. */
  assertHeld(dir: string): void {
    if (this.held()) return;
    const now = readText(this.path);
    const other = now ? parse(now) : null;
    throw new RunFolderError('run-in-progress', `${this.path} no longer names this run (${other ? `it now names ${describe(other)}` : 'it was deleted'}): ` +
      'another run may be writing into this folder, so this one stops without writing more', { folder: dir, ...(other ? { holder: holder(other) } : {}) });
  }

  release(): void {
    if (this.held()) unlinkSync(this.path);
  }
}

/** Takes `dir`'s lock for run `runId`; `notice` says when it took over a stale one. */
export function acquireLock(dir: string, runId: string): { lock: RunLock; notice: string | null } {
  const path = join(dir, LOCK_FILE);
  const mine: LockRecord = {
    format: 'vgg-cifar-lock', pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), runId,
    command: process.argv.slice(1).join(' ').slice(0, 300), bootId: bootId(), processStart: processStart(process.pid),
  };
  const text = JSON.stringify(mine, null, 1) + '\n';
  let notice: string | null = null;
  for (let attempt = 0; attempt < 10; attempt++) {
    if (createExclusive(path, text)) {
      removeStaleTemps(path);
      return { lock: new RunLock(path, text), notice };
    }
    const theirs = readText(path);
    if (theirs === null) continue; // released meanwhile
    const r = parse(theirs);
    const v = judge(r);
    if (v.state !== 'gone') throw inUse(dir, path, r!, v.state === 'elsewhere');
    if (removeIfUnchanged(path, theirs)) notice = `taking over ${path}: it ${v.why}${r ? `, ${describe(r)}` : ''}`;
  }
  const r = parse(readText(path) ?? '');
  if (r) throw inUse(dir, path, r, false);
  throw new Error(`cannot take ${path}: other processes keep replacing it`);
}

/** Releases the lock at `path` if process `pid` took it for run `runId` (a worker that died without doing so). */
export function releaseLockOf(path: string, pid: number, runId: string): void {
  const text = readText(path);
  const r = text ? parse(text) : null;
  if (r && r.pid === pid && r.runId === runId && r.host === hostname()) removeIfUnchanged(path, text!);
}

/** The state of a run folder's lock, for readers (the report): null when there is none. */
export function lockState(dir: string): (HolderState & { holder: LockHolder | null }) | null {
  const path = join(dir, LOCK_FILE);
  try {
    lstatSync(path);
  } catch {
    return null;
  }
  const r = parse(readText(path) ?? '');
  return { ...judge(r), holder: r ? holder(r) : null };
}

// Atomic file writes: a temp file in the same folder, fsync, rename, fsync the folder, so that a crash
// at any moment leaves either the old file or the new one (checkpoints, run.json, report.html, caches);
// folders the same way (exported models).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const REASONS: Record<string, string> = {
  ENOSPC: 'the disk is full', EFBIG: 'the file is larger than this process may write (ulimit -f)', EDQUOT: 'the disk quota is used up', EROFS: 'the file system is read-only',
  EACCES: 'permission denied', EPERM: 'permission denied', ENOENT: 'the folder does not exist', ENOTDIR: 'a path component is not a folder',
};

/** An fs failure while writing `path`, in words: which file, why, and what is left on disk. */
function writeError(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string') return e;
  const kept = existsSync(path) ? `the previous ${basename(path)} is unchanged` : 'nothing was written';
  return new Error(`cannot write ${path}: ${REASONS[code] ?? (e as Error).message} (${code}); ${kept}`, { cause: e });
}

export const tempName = (path: string, pid: number, tag: string) => `.${basename(path)}.${pid}.${tag}.tmp`;

/** Temp files of `path` left by processes that died mid-write (kill -9, power loss): never read, but
 *  they would pile up. Those of live processes are left alone. */
export function removeStaleTemps(path: string): void {
  const name = basename(path);
  const dir = dirname(path);
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(`.${name}.`) || !f.endsWith('.tmp')) continue;
    const pid = Number(f.slice(name.length + 2).split('.')[0]);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue; // alive (or a reused pid): not ours to remove
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    try {
      unlinkSync(join(dir, f));
    } catch {
      // raced with another cleaner
    }
  }
}

/** Writes `path` via a temp file in the same folder, fsync, rename and a folder fsync, so that a crash
 *  at any moment leaves either the old file or the new one. */
export function writeFileAtomic(path: string, write: (fd: number) => void): void {
  const dir = dirname(path);
  const tmp = join(dir, tempName(path, process.pid, randomBytes(4).toString('hex')));
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw writeError(path, e);
  }
  const discard = (e: unknown) => {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    return writeError(path, e);
  };
  try {
    write(fd);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    throw discard(e);
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    throw discard(e);
  }
  fsyncFolder(dir);
  removeStaleTemps(path);
}

function fsyncFolder(dir: string): void {
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some platforms cannot fsync a directory (Windows); the rename itself is still atomic there.
  }
}

/** Writes the folder `path` whole: `fill` writes the files into a temp folder beside it, which is then
 *  synced and renamed to `path`. An existing `path` is replaced only when `replace` is true (it is
 *  renamed aside first and removed after the new folder is in place; put back if that rename fails). */
export function writeFolderAtomic(path: string, fill: (dir: string) => void, opts: { replace?: boolean } = {}): void {
  const dir = dirname(path);
  const tag = randomBytes(4).toString('hex');
  const tmp = join(dir, tempName(path, process.pid, tag));
  const exists = existsSync(path);
  if (exists && !opts.replace) throw new Error(`${path} exists; nothing was written`);
  try {
    mkdirSync(tmp);
  } catch (e) {
    throw writeError(path, e);
  }
  try {
    fill(tmp);
    for (const f of readdirSync(tmp)) {
      const fd = openSync(join(tmp, f), 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    fsyncFolder(tmp);
    if (exists) {
      const old = join(dir, tempName(path, process.pid, `${tag}-old`));
      renameSync(path, old);
      try {
        renameSync(tmp, path);
      } catch (e) {
        renameSync(old, path);
        throw e;
      }
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw writeError(path, e);
  }
  fsyncFolder(dir);
  removeStaleTemps(path);
}

/** Whether `path` is a folder (false when it does not exist). */
export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

// Temp files and folders left by downloads and extractions whose process died (kill -9, power loss): hidden
// and never read, but they would pile up. Their names carry the writer's pid; those of live processes stay.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

function isGone(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false; // alive (or the pid was reused): not ours to remove
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Removes the entries of `dir` whose name matches `pattern` (first group: the writer's pid) when that
 *  process no longer exists. Never throws: a missing folder or a race with another cleaner is fine. */
export function removeStale(dir: string, pattern: RegExp): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = pattern.exec(name);
    if (m && isGone(Number(m[1]))) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

// The project's real CIFAR-10 copy (../shared/cifar10: JPEGs and make-binary.sh) turned into the official
// binary layout once per machine, cached in the OS temp folder under a key of its SHA256SUMS, for the
// real-data test and the load-time benchmark. Never part of the repository.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where the shared copy is: $VGG_CIFAR_SHARED_DATA, else the clone's sibling shared/cifar10 (or, for a
 *  git worktree one level deeper, its parent's sibling). Null when none exists. */
export function sharedCifarDir(repoRoot: string): string | null {
  const candidates = [process.env.VGG_CIFAR_SHARED_DATA, resolve(repoRoot, '..', 'shared', 'cifar10'), resolve(repoRoot, '..', '..', 'shared', 'cifar10')];
  for (const c of candidates) if (c && existsSync(join(c, 'make-binary.sh')) && existsSync(join(c, 'SHA256SUMS'))) return c;
  return null;
}

/** A folder holding cifar-10-batches-bin/ and cifar-10-binary.tar.gz made from the shared copy (built on
 *  first use, 15-30 s), or null when the shared copy is absent. */
export function realCifarCopy(repoRoot: string): string | null {
  const shared = sharedCifarDir(repoRoot);
  if (!shared) return null;
  const key = createHash('sha256').update(readFileSync(join(shared, 'SHA256SUMS'))).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `vgg-cifar-real-${key}`);
  if (existsSync(join(dir, 'complete'))) return dir;
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  try {
    execFileSync('bash', [join(shared, 'make-binary.sh'), building, '--tar'], { stdio: ['ignore', 'ignore', 'inherit'] });
    writeFileSync(join(building, 'complete'), new Date().toISOString() + '\n');
    if (!existsSync(join(dir, 'complete'))) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(building, dir);
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}

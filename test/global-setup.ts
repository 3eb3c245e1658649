// Before any test: (1) what the selected tests need from the machine (Chromium, a font) is there, else
// the run stops at once with the command that installs it, not minutes later in the one test that uses
// it; (2) the measured bf16 speed is cached in a folder of this run's own (XDG_CACHE_HOME), not in the
// user's ~/.cache; (3) train() runs its loop from dist/ in a worker thread: compile the TypeScript first
// so tests run the code they see. Where TypeScript is not installed (the packed GPU run,
// native/cuda/check/pack.sh, which compiles dist/ before packing), the tests run the dist/ that came along.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { missingNeeds } from './helpers/system-needs.js';

export default async function setup(project: TestProject): Promise<() => void> {
  // The file filters of this run (`vitest run test/cuda`); vitest keeps them on an internal field, and
  // without it every test file counts as selected (the check is then only stricter).
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  const selected = (await project.vitest.getRelevantTestSpecifications(filters)).map((s) => s.moduleId);
  const lacking = missingNeeds(selected);
  if (lacking) throw new Error(lacking);

  const cache = mkdtempSync(join(tmpdir(), 'vgg-cifar-test-cache-'));
  process.env.XDG_CACHE_HOME = cache;

  const tsc = 'node_modules/typescript/bin/tsc';
  if (existsSync(tsc)) execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
  else if (!existsSync('dist/lib/index.js')) {
    throw new Error('test setup: TypeScript is not installed (node_modules/typescript) and dist/ is not built: run `npm install`');
  } else console.log('test setup: TypeScript is not installed; the tests run the dist/ built before (npx tsc -p tsconfig.json)');
  return () => rmSync(cache, { recursive: true, force: true });
}

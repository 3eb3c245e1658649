// train() runs its loop from dist/ in a worker thread: compile the TypeScript first so tests run the
// code they see. Where TypeScript is not installed (the packed GPU run, native/cuda/check/pack.sh, which
// compiles dist/ before packing), the tests run the dist/ that came along.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export default function setup(): void {
  const tsc = 'node_modules/typescript/bin/tsc';
  if (existsSync(tsc)) {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
    return;
  }
  if (!existsSync('dist/lib/index.js')) {
    throw new Error('test setup: TypeScript is not installed (node_modules/typescript) and dist/ is not built: run `npm install`');
  }
  console.log('test setup: TypeScript is not installed; the tests run the dist/ built before (npx tsc -p tsconfig.json)');
}

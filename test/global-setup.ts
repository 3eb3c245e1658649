// train() runs its loop from dist/ in a worker thread: compile the TypeScript first so tests run the
// code they see.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}

// The publisher of train() and runTraining() (training.ts): the loop's snapshot after each epoch and at
// the end becomes run.json, written here, and report.html, drawn by a short-lived child process
// (render-child.ts). The charts (vega), pictures, the checkpoint's second model and the test images the
// page needs then live and die with that process: nothing of them stays in the trainer's memory, which
// is what keeps a long run's memory flat (bench/soak.ts).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../backend.js';
import { runRecord, writeRunRecord, type RunSnapshot } from '../train/run-file.js';

/** Stderr kept from a failed child, for the warning. */
const STDERR_TAIL = 4000;

function childScript(): string | null {
  try {
    const p = join(packageRoot(), 'dist', 'lib', 'report', 'render-child.js');
    return existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

function renderInChild(script: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // One thread: the page needs one image through the model, and the training keeps the other cores.
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1' } });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => { err = (err + d).slice(-STDERR_TAIL); });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`the report process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${err.trim() ? `: ${err.trim()}` : ''}`));
    });
  });
}

/** Writes RUN_DIR/run.json, then RUN_DIR/report.html (in a child process; in this one when the compiled
 *  child script is missing, e.g. when running from the TypeScript sources). */
export async function publishRun(s: RunSnapshot): Promise<void> {
  writeRunRecord(s.out, runRecord(s));
  const script = childScript();
  if (script) await renderInChild(script, s.out);
  else await (await import('./report.js')).renderReport(s.out);
}

// `node dist/bench/time-to-accuracy.js --data DIR [--recipes fast,speed] [--seeds 3] [--pytorch all|none|a,b]`:
// trains each recipe (or candidate, bench/recipes/candidates.ts) with vgg-cifar and, where asked, the
// same recipe in PyTorch (bench/pytorch/recipe.py) on the same device, one process per run, seeds
// interleaved (every candidate gets seed 0 before any gets seed 1). Every epoch evaluates the test split,
// outside the training time. Prints the seconds of training to reach 90/93/94% and the final accuracy as
// mean ± standard deviation over the seeds, a Markdown table last; writes every run's JSON lines, its
// stderr, summary.json and table.md under --out. --budget-s stops starting runs (and cuts the one running)
// at a wall-clock budget, so a GPU lease always ends with a table.
// On a CPU, for the pipeline: --backend cpu --limit 512 --test-limit 256 --width-divisor 8 --epochs 2.
import { Command, Option } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../lib/backend.js';
import { locateCifar10 } from '../lib/data/locate.js';
import { resolveTrainOptions, type TrainOptions } from '../lib/train/options.js';
import { writeFileAtomic } from '../lib/nn/checkpoint.js';
import { candidateNamed, type Candidate } from './recipes/candidates.js';
import { parseRunLines } from './recipes/protocol.js';
import { pythonWithTorch } from './python.js';
import { formatTable, runResult, summarize, type RunResult } from './recipes/summary.js';

interface Flags {
  data: string; out: string; recipes: string; seeds: number; seedBase: number; pytorch: string; python?: string; backend: 'auto' | 'cpu' | 'cuda';
  epochs?: number; limit?: number; testLimit?: number; widthDivisor?: number; threads?: number; budgetS: number; thresholds: string;
}

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got '${v}'`);
  return n;
};

/** Runs one child, streaming its stdout to `file`, killed at `deadline` (ms since epoch). */
function runChild(cmd: string, args: string[], files: { out: string; err: string }, deadline: number): Promise<{ stdout: string; status: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Ctrl-C or a kill of the benchmark ends the training it started too (no orphan holding the device)
    const forward = (sig: NodeJS.Signals) => { child.kill(sig); process.exitCode = 130; };
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    let stdout = '';
    let stderr = '';
    let cut = false;
    const timer = Number.isFinite(deadline) ? setTimeout(() => { cut = true; child.kill('SIGTERM'); }, Math.max(1000, deadline - Date.now())) : undefined;
    child.stdout.on('data', (d: Buffer) => { stdout += d; writeFileSync(files.out, stdout); });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('error', (e) => { stderr += `\n${e.message}`; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      writeFileSync(files.out, stdout);
      writeFileSync(files.err, stderr);
      const tail = stderr.trim().split('\n').slice(-3).join(' / ');
      done({ stdout, status: cut ? 'cut at the time budget' : code === 0 ? 'ok' : `exit ${code ?? signal}${tail ? `: ${tail}` : ''}` });
    });
  });
}

async function main(): Promise<void> {
  const program = new Command('time-to-accuracy')
    .requiredOption('--data <dir>', 'folder holding cifar-10-batches-bin/')
    .option('--out <dir>', 'folder for the runs, summary.json and table.md (must not exist or be empty)', `tta-${new Date().toISOString().replace(/[:.]/g, '-')}`)
    .option('--recipes <list>', 'comma-separated recipes or candidates (bench/recipes/candidates.ts)', 'fast,speed')
    .option('--seeds <n>', 'seeds per candidate', int, 3)
    .option('--seed-base <n>', 'first seed', int, 0)
    .option('--pytorch <which>', "candidates also trained in PyTorch: 'all', 'none' or a comma-separated list", 'all')
    .option('--python <path>', 'python3 with torch (default: $VGG_CIFAR_PYTHON, then python3)')
    .addOption(new Option('--backend <name>').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--epochs <n>', 'override every candidate\'s epochs', int)
    .option('--limit <n>', 'train on the first n training images', int)
    .option('--test-limit <n>', 'evaluate on the first n test images', int)
    .option('--width-divisor <n>', 'divide every conv width (4: the CPU proxy, 1/16 of the FLOPs)', int)
    .option('--threads <n>', 'CPU threads (0: all)', int)
    .option('--thresholds <list>', 'accuracies (%) whose time to reach is reported', '90,93,94')
    .option('--budget-s <s>', 'wall-clock budget: no run starts after it and the running one is cut (0: none)', int, 0);
  program.parse();
  const f = program.opts<Flags>();
  const thresholds = f.thresholds.split(',').map((v) => Number(v) / 100);
  if (thresholds.some((t) => !(t > 0 && t <= 1))) throw new Error(`--thresholds must be percentages in (0, 100], got '${f.thresholds}'`);
  const t0 = Date.now();
  const deadline = f.budgetS > 0 ? t0 + f.budgetS * 1000 : Number.POSITIVE_INFINITY;
  const out = resolve(f.out);
  if (existsSync(out) && readdirSync(out).length > 0) throw new Error(`--out ${out} is not empty: choose a new folder (earlier results are kept)`);
  mkdirSync(join(out, 'runs'), { recursive: true });
  const bindir = await locateCifar10(f.data);
  const candidates: Candidate[] = f.recipes.split(',').map((s) => candidateNamed(s.trim()));
  const torchFor = new Set(f.pytorch === 'all' ? candidates.map((c) => c.name) : f.pytorch === 'none' ? [] : f.pytorch.split(',').map((s) => s.trim()));
  for (const n of torchFor) if (!candidates.some((c) => c.name === n)) throw new Error(`--pytorch names '${n}', which is not in --recipes`);
  const torch = torchFor.size ? pythonWithTorch(f.python) : null;
  const log = (s: string) => process.stdout.write(s + '\n');
  if (torch && 'reason' in torch) log(`time-to-accuracy: the PyTorch side is SKIPPED: ${torch.reason}`);
  else if (torch) log(`time-to-accuracy: PyTorch ${torch.version} (${torch.py})`);

  const common: Partial<TrainOptions> = Object.fromEntries(Object.entries({ epochs: f.epochs, limit: f.limit, testLimit: f.testLimit,
    widthDivisor: f.widthDivisor, threads: f.threads, backend: f.backend }).filter(([, v]) => v !== undefined));
  const results: RunResult[] = [];
  const save = () => {
    const rows = summarize(results, thresholds);
    const table = formatTable(rows);
    writeFileAtomic(join(out, 'summary.json'), (fd) => writeFileSync(fd, JSON.stringify({ flags: f, elapsedSeconds: (Date.now() - t0) / 1000, rows, results }, null, 1)));
    writeFileAtomic(join(out, 'table.md'), (fd) => writeFileSync(fd, table + '\n'));
    return table;
  };
  const ours = join(packageRoot(), 'dist', 'bench', 'recipes', 'run-ours.js');
  const script = join(packageRoot(), 'bench', 'pytorch', 'recipe.py');
  for (let seed = f.seedBase; seed < f.seedBase + f.seeds; seed++) {
    for (const c of candidates) {
      const tag = `${c.name}.seed${seed}`;
      const o = resolveTrainOptions({ ...c.overrides, ...common, recipe: c.recipe, data: f.data, seed, out: join(out, 'runs', `${tag}.ckpt`),
        report: false, saveEvery: 1e9 });
      const sides: Array<[string, string, string[]]> = [['vgg-cifar', process.execPath, [ours, JSON.stringify(o)]]];
      if (torchFor.has(c.name) && torch && !('reason' in torch)) {
        sides.push(['pytorch', torch.py, [script, '--data', bindir, '--options', JSON.stringify(o), '--device', o.backend]]);
      }
      for (const [impl, cmd, args] of sides) {
        if (process.exitCode === 130) break;
        if (Date.now() >= deadline) {
          results.push(runResult(c.name, impl, seed, [], 'not run: past the time budget', o.tta));
          continue;
        }
        log(`time-to-accuracy: ${impl} ${c.name} seed ${seed} (${o.epochs} epochs, batch ${o.batchSize}, ${o.precision}${o.tf32 ? '/tf32' : ''}, TTA ${o.tta}); ${((Date.now() - t0) / 1000).toFixed(0)} s elapsed`);
        const r = await runChild(cmd, args, { out: join(out, 'runs', `${tag}.${impl}.jsonl`), err: join(out, 'runs', `${tag}.${impl}.stderr`) }, deadline);
        const res = runResult(c.name, impl, seed, parseRunLines(r.stdout), r.status, o.tta);
        results.push(res);
        const last = res.epochs.at(-1);
        log(`  ${res.status}; ${res.epochs.length} epochs, ${last ? `${(100 * last.testAccuracy).toFixed(2)}% (${res.tta === 'flip' ? 'TTA flip' : 'no TTA'}) after ${last.trainSeconds.toFixed(1)} s of training` : 'no epoch finished'}`);
        save();
      }
    }
  }
  log(`\ntime-to-accuracy: ${((Date.now() - t0) / 1000).toFixed(0)} s; results in ${out}\n`);
  log(save());
}

main().catch((e: Error) => {
  process.stderr.write(`time-to-accuracy: ${e.message}\n`);
  process.exitCode = 1;
});

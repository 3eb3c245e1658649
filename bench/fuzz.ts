// `npm run fuzz`: the long version of test/reliability. At least 10,000 seeded malformed inputs to each
// parser of user files (safetensors loader, CIFAR-10 reader, archive extractor, image loader), 20,000
// corrupted calls to the native surface in a child process, and 20 SIGKILLs of a training run. Prints
// the figures as markdown (the "Fuzzing" section of bench/RESULTS.md); exits 1 on any failure.
// Usage: node dist/bench/fuzz.js [--inputs N] [--calls N] [--kills N] [--seed S] [--only safetensors,cifar,extract,image,native,kill]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../lib/backend.js';
import type { FuzzReport } from './fuzz-mutate.js';
import { fuzzCifarReader, fuzzExtractor, fuzzSafetensors } from './fuzz-targets.js';
import { fuzzImageLoader } from './fuzz-images.js';
import { killCampaign } from './kill.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};

async function main(): Promise<void> {
  const inputs = Number(arg('inputs', '10000'));
  const calls = Number(arg('calls', '20000'));
  const kills = Number(arg('kills', '20'));
  const seed = Number(arg('seed', '1'));
  const only = new Set(arg('only', 'safetensors,cifar,extract,image,native,kill').split(','));
  const tmp = mkdtempSync(join(tmpdir(), 'vgg-cifar-fuzz-'));
  const reports: FuzzReport[] = [];
  const lines: string[] = [];
  let failed = false;
  const log = (s: string) => process.stderr.write(s + '\n');
  try {
    const targets: [string, (n: number, s: number, t: string) => Promise<FuzzReport>][] = [
      ['safetensors', fuzzSafetensors], ['cifar', fuzzCifarReader], ['extract', fuzzExtractor], ['image', fuzzImageLoader]];
    for (const [key, fn] of targets) {
      if (!only.has(key)) continue;
      log(`fuzz: ${key}, ${inputs} inputs...`);
      const r = await fn(inputs, seed, tmp);
      reports.push(r);
      failed ||= r.failures.length > 0;
      for (const f of r.failures) log(`  FAILURE ${f}`);
    }
    if (reports.length) {
      lines.push('| parser | inputs | accepted (checked against an independent decode) | refused with a clear error | failures | slowest input | peak RSS | time |',
        '|---|---:|---:|---:|---:|---:|---:|---:|');
      for (const r of reports) {
        lines.push(`| ${r.parser} | ${r.inputs} | ${r.accepted} | ${r.refused} | ${r.failures.length} | ${r.maxMs.toFixed(0)} ms | ${r.maxRssMiB.toFixed(0)} MiB | ${r.seconds.toFixed(1)} s |`);
      }
      lines.push('', 'Most frequent refusals (digits folded to N):', '');
      for (const r of reports) lines.push(`- ${r.parser}: ${r.topMessages.slice(0, 3).map(([m, n]) => `"${m}" (${n})`).join('; ')}`);
    }
    if (only.has('native')) {
      log(`fuzz: native surface, ${calls} random calls in a child process...`);
      const t0 = performance.now();
      const c = spawnSync(process.execPath, [join(packageRoot(), 'dist', 'bench', 'fuzz-native.js'), '--calls', String(calls), '--seed', String(seed)],
        { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
      const secs = (performance.now() - t0) / 1000;
      if (c.signal || c.status === null) {
        failed = true;
        lines.push('', `Native surface: the child CRASHED (${c.signal}): ${c.stderr.slice(-500)}`);
      } else {
        const o = JSON.parse(c.stdout.trim().split('\n').at(-1)!) as { table: number; tableFailures: string[]; random: number; randomFailures: string[]; accepted: number };
        failed ||= o.tableFailures.length + o.randomFailures.length > 0;
        for (const f of [...o.tableFailures, ...o.randomFailures]) log(`  FAILURE ${f}`);
        lines.push('', `Native surface (child process, exit ${c.status}): ${o.table} table cases (${o.tableFailures.length} failures), ` +
          `${o.random} seeded corrupted calls (${o.accepted} still valid and run, ${o.random - o.accepted} refused with an error naming the op, ` +
          `${o.randomFailures.length} failures), no crash; ${secs.toFixed(1)} s.`);
      }
    }
    if (only.has('kill')) {
      log(`fuzz: ${kills} SIGKILLs of training runs...`);
      const k = await killCampaign(kills, seed, 3);
      failed ||= k.problems.length > 0 || k.maxDiff !== 0;
      for (const p of k.problems) log(`  FAILURE ${p}`);
      lines.push('', `Kill -9: ${k.kills} SIGKILLs (${k.duringWrite} the moment a checkpoint's temp file appeared), newest checkpoint epoch after each: ` +
        `[${k.newest.join(', ')}]; ${k.problems.length} problems (partial or missing checkpoints, failed resumes); resumed runs ended with weights ` +
        `${k.maxDiff === 0 ? 'bit-identical to' : `differing by ${k.maxDiff} from`} an uninterrupted run; temp files left: ${k.tempFilesLeft}; ${k.seconds.toFixed(0)} s.`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  lines.unshift(`Machine: ${cpus()[0]?.model ?? 'cpu'} (${cpus().length} logical cores, shared), Node ${process.version}; seed ${seed}.`, '');
  process.stdout.write(lines.join('\n') + '\n');
  if (failed) {
    process.stderr.write('fuzz: FAILED\n');
    process.exitCode = 1;
  }
}

await main();

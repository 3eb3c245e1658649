// `npm run bench`: training and inference throughput of VGG16 on vgg-cifar (each working backend),
// TensorFlow.js (cpu, wasm; tfjs-node where it installs) and PyTorch (when python3 has torch), measured
// side by side in one run, in fp32 and in bf16 mixed precision against PyTorch's CPU autocast.
// Flags: --quick (under 3 minutes on 2 cores), --json, --threads N,
// --tfjs-cpu-train (time tfjs's pure-JS backend training too: one VGG16 step takes over 10 minutes).
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { backends, native, packageRoot } from '../lib/backend.js';
import { benchVggCifar, median } from './vgg-cifar.js';
import { pythonWithTorch } from './python.js';
import { measurePeak } from './peak.js';
import { benchTfjs } from './tfjs.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const json = argv.includes('--json');
const tfjsCpuTrain = argv.includes('--tfjs-cpu-train');
const threadsArg = argv.indexOf('--threads');
const threads = threadsArg >= 0 ? Number(argv[threadsArg + 1]) : cpus().length;
native.setThreads(threads);

/** Multiply-adds of one VGG16 (report classifier) forward pass per image (about 0.313 G). */
function vgg16Macs(): number {
  const cfg = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];
  let c = 3, hw = 32, macs = 0;
  for (const v of cfg) {
    if (v === 0) hw /= 2;
    else { macs += hw * hw * v * c * 9; c = v; }
  }
  return macs + 512 * 100 + 100 * 100 + 100 * 10;
}
const MACS_PER_IMAGE = vgg16Macs();
const FLOP_TRAIN = 3 * 2 * MACS_PER_IMAGE; // forward + backward-data + backward-weights
const FLOP_INFER = 2 * MACS_PER_IMAGE;

type Precision = 'fp32' | 'bf16';
interface Config { mode: 'train' | 'infer'; batch: number; bn: boolean; precision: Precision }
interface Row extends Config { framework: string; backend: string; times: number[]; note?: string }


// bf16: torch.autocast('cpu', bfloat16) with channels_last, PyTorch's own recipe for bf16 on CPUs.
function benchPytorch(py: string, c: Config, warmup: number, rounds: number): Row {
  const args = [join(packageRoot(), 'bench', 'pytorch', 'bench.py'), '--batch', String(c.batch), '--threads', String(threads), '--mode', c.mode,
    '--warmup', String(warmup), '--rounds', String(rounds), '--precision', c.precision, ...(c.bn ? ['--bn'] : []),
    ...(c.precision === 'bf16' ? ['--channels-last'] : [])];
  const r = spawnSync(py, args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
  if (r.status !== 0) return { framework: 'pytorch', backend: 'cpu', ...c, times: [], note: `failed: ${r.stderr.trim().split('\n').at(-1)}` };
  const o = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  return { framework: `pytorch ${o.version}`, backend: `cpu (${o.threads} threads)`, ...c, times: o.times };
}

async function main(): Promise<void> {
  const fp32: Config[] = quick
    ? [{ mode: 'train', batch: 32, bn: false, precision: 'fp32' }, { mode: 'infer', batch: 128, bn: false, precision: 'fp32' }]
    : [false, true].flatMap((bn) => [32, 128].flatMap((batch) => (['train', 'infer'] as const).map((mode) => ({ mode, batch, bn, precision: 'fp32' as const }))));
  // bf16 where the CPU has bf16 kernels (AMX or AVX512-BF16; not on emulated AVX-512)
  const bf16Cpu = /AMX|BF16/.test(String(backends().find((b) => b.device === 'cpu')?.details?.bf16 ?? ''));
  const bf16: Config[] = !bf16Cpu ? [] : quick
    ? [{ mode: 'train', batch: 32, bn: false, precision: 'bf16' }, { mode: 'infer', batch: 128, bn: false, precision: 'bf16' }]
    : [{ mode: 'train', batch: 32, bn: false, precision: 'bf16' }, { mode: 'train', batch: 128, bn: false, precision: 'bf16' },
      { mode: 'train', batch: 128, bn: true, precision: 'bf16' }, { mode: 'infer', batch: 128, bn: false, precision: 'bf16' }];
  const configs = [...fp32, ...bf16];
  const warmup = quick ? 2 : 3;
  const rounds = quick ? 5 : 10;
  const found = pythonWithTorch(undefined, '/usr/bin/python3');
  const py = 'py' in found ? found.py : null;
  const peakBefore = process.env.VGG_CIFAR_PEAK_GFLOPS ? NaN : measurePeak([threads]).get(threads) ?? NaN;
  const devices = backends().filter((b) => b.available).map((b) => b.device);
  const rows: Row[] = [];
  const log = (s: string) => { if (!json) process.stderr.write(s + '\n'); };
  for (const c of configs) {
    for (const d of devices) {
      log(`vgg-cifar ${d} ${c.precision} ${c.mode} batch ${c.batch}${c.bn ? ' bn' : ''}…`);
      const r = await benchVggCifar(d, c.mode, c.batch, c.bn, warmup, rounds, c.precision);
      rows.push({ framework: `vgg-cifar ${native.version}`, backend: d === 'cpu' ? `cpu (${threads} threads)` : d, ...c, times: r.times, note: r.error });
    }
    if (py) {
      log(`pytorch ${c.precision} ${c.mode} batch ${c.batch}${c.bn ? ' bn' : ''}…`);
      rows.push(benchPytorch(py, c, warmup, rounds));
    }
    if (c.precision === 'bf16') continue;  // tfjs has no bf16
    // tfjs: wasm cannot train (no Conv2DBackpropFilter kernel); the pure-JS cpu backend takes tens of
    // seconds per VGG16 batch, so it gets one timed round and only the smaller configurations.
    for (const be of ['wasm', 'cpu'] as const) {
      if (be === 'cpu' && (c.batch > 32 || c.bn || (quick && c.mode === 'train'))) continue;
      if (be === 'cpu' && c.mode === 'train' && !tfjsCpuTrain) {
        rows.push({ framework: 'tfjs', backend: be, ...c, times: [], note: 'not timed: one training step takes over 600 s on 2 cores (bench/RESULTS.md); --tfjs-cpu-train times it' });
        continue;
      }
      log(`tfjs ${be} ${c.mode} batch ${c.batch}${c.bn ? ' bn' : ''}…`);
      const t = await benchTfjs(be, c.mode, c.batch, c.bn, be === 'cpu' ? 0 : Math.min(1, warmup), be === 'cpu' ? 1 : Math.min(3, rounds));
      rows.push({ framework: t.framework, backend: be, ...c, times: t.times, note: [t.error, ...t.notes].filter(Boolean).join('; ') || undefined });
    }
  }
  rows.push({ framework: 'tfjs-node', backend: '-', mode: 'train', batch: 0, bn: false, precision: 'fp32', times: [],
    note: await import('@tensorflow/tfjs-node' as string).then(() => 'installed (not timed)', () => 'not installed: its install script downloads libtensorflow 2.9.1 from Google storage, which needs internet') });
  // measured before and after the runs; the better of the two (other work on the cores only lowers it)
  const peak = Number(process.env.VGG_CIFAR_PEAK_GFLOPS ?? 0) || Math.max(0, ...[peakBefore, measurePeak([threads]).get(threads) ?? NaN].filter(Number.isFinite));
  const report = rows.map((r) => {
    const med = median(r.times);
    const ips = r.times.length ? r.batch / med : NaN;
    const gflops = (ips * (r.mode === 'train' ? FLOP_TRAIN : FLOP_INFER)) / 1e9;
    const ours = rows.find((o) => o.framework.startsWith('vgg-cifar') && o.backend.startsWith('cpu') && o.mode === r.mode && o.batch === r.batch && o.bn === r.bn &&
      o.precision === r.precision);
    const oursIps = ours && ours.times.length ? ours.batch / median(ours.times) : NaN;
    return { ...r, median: med, min: Math.min(...r.times), max: Math.max(...r.times), imagesPerSecond: ips, gflops,
      fractionOfPeak: peak ? gflops / peak : null, vggCifarSpeedup: Number.isFinite(ips) ? oursIps / ips : NaN };
  });
  if (json) {
    process.stdout.write(JSON.stringify({ machine: { cpu: cpus()[0]?.model, cores: cpus().length, threads, backends: backends() }, rows: report }, null, 2) + '\n');
    return;
  }
  const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  const pct = (r: (typeof report)[number]) => (r.fractionOfPeak === null || !Number.isFinite(r.fractionOfPeak) ? '' : ` (${(100 * r.fractionOfPeak).toFixed(0)}%)`);
  const conv = backends().find((b) => b.device === 'cpu')?.details?.convolution;
  const lines = [
    `machine: ${cpus()[0]?.model}, ${cpus().length} cores, ${threads} threads; ${backends().filter((b) => b.available).map((b) => b.description).join('; ')}`,
    `| framework | backend | precision | mode | batch | BN | median s/step | spread (min-max) | images/s | GFLOP/s${peak ? ` (% of ${peak.toFixed(0)} peak)` : ''} | vgg-cifar is x faster | note |`,
    '|---|---|---|---|---:|---|---:|---|---:|---:|---:|---|',
    ...report.map((r) => `| ${r.framework} | ${r.backend} | ${r.precision} | ${r.mode} | ${r.batch || '-'} | ${r.bn ? 'yes' : 'no'} | ${f(r.median, 3)} | ${r.times.length ? `${f(r.min, 3)}-${f(r.max, 3)}` : '-'} | ${f(r.imagesPerSecond)} | ${f(r.gflops)}${pct(r)} | ${r.framework.startsWith('vgg-cifar') ? '1.0' : f(r.vggCifarSpeedup, 2)} | ${r.note ?? ''} |`),
    '',
    `GFLOP/s counts the direct convolution's multiply-adds (${(MACS_PER_IMAGE / 1e6).toFixed(1)} M per image forward, x3 for a training step)${peak ? `; the peak is bench/peak.c's fp32 FMA rate with ${threads} threads (VGG_CIFAR_PEAK_GFLOPS overrides it)` : '; no C compiler to measure the peak (set VGG_CIFAR_PEAK_GFLOPS)'}.`,
    ...(bf16.length ? ['bf16 rows: vgg-cifar with setPrecision(\'bf16\') (oneDNN AMX/AVX512-BF16 kernels), PyTorch with torch.autocast(\'cpu\', bfloat16) + channels_last; their GFLOP/s percentages are of the fp32 FMA peak, which AMX exceeds.'] : []),
    ...(conv ? [`vgg-cifar cpu convolutions: ${conv}. Winograd does fewer multiplications, so its GFLOP/s is an effective rate that can exceed the peak; VGG_CIFAR_CONV_ALGO=direct compares like kernels with like.`] : []),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).stack}\n`);
  process.exit(1);
});

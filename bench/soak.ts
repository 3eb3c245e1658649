// Soak: trains a small VGG for 10,000 steps on the CPU through the real loop (runTraining, checkpoints
// included) and samples resident memory and the addon's live bytes every 500 steps. A leak of a few
// bytes per step shows up as a steady climb. Pass mark: native.liveBytes unchanged and < 1% growth after
// warm-up of the anonymous memory outside the V8 heap (the heap's own reservation moves by MiBs as V8 resizes).
// Usage: node --expose-gc dist/bench/soak.js [--steps N] [--every N] [--warmup N] [--batch N] [--epoch-steps N] [--save-every N] [--json FILE]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../lib/backend.js';
import { IMAGE_BYTES, META_FILE, RECORD_BYTES, TEST_FILES, TRAIN_FILES } from '../lib/data/layout.js';
import { runTraining } from '../lib/train/loop.js';
import { resolveTrainOptions } from '../lib/train/options.js';

interface Sample { step: number; rssMiB: number; rssFileMiB: number; nonHeapMiB: number; heapMiB: number; heapTotalMiB: number; externalMiB: number; liveBytes: number; seconds: number }

function flag(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

/** Random pixels with a class-dependent colour: enough signal that the loss moves, cheap to make. */
function writeData(dir: string, perFile: number): void {
  const bin = join(dir, 'cifar-10-batches-bin');
  mkdirSync(bin, { recursive: true });
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  for (const name of [...TRAIN_FILES, ...TEST_FILES]) {
    const b = Buffer.alloc(perFile * RECORD_BYTES);
    for (let r = 0; r < perFile; r++) {
      const label = next() % 10;
      b[r * RECORD_BYTES] = label;
      for (let k = 0; k < IMAGE_BYTES; k++) b[r * RECORD_BYTES + 1 + k] = (label * 25 + (next() >>> 26)) & 255;
    }
    writeFileSync(join(bin, name), b);
  }
  writeFileSync(join(bin, META_FILE), 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n');
}

export async function soak(steps: number, every: number, batch: number): Promise<Sample[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vgg-cifar-soak-'));
  const stepsPerEpoch = flag('epoch-steps', 500);
  writeData(join(dir, 'data'), Math.ceil((stepsPerEpoch * batch) / 5));
  const gc = (globalThis as { gc?: () => void }).gc;
  const samples: Sample[] = [];
  const t0 = performance.now();
  const sample = (step: number) => {
    gc?.();
    const m = process.memoryUsage();
    // RssFile: pages of the node binary and shared libraries (oneDNN kernels) mapped in on first use; not a leak
    const file = Number(/RssFile:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
    samples.push({ step, rssMiB: m.rss / 2 ** 20, rssFileMiB: file, nonHeapMiB: (m.rss - m.heapTotal) / 2 ** 20 - file, heapMiB: m.heapUsed / 2 ** 20, heapTotalMiB: m.heapTotal / 2 ** 20, externalMiB: m.external / 2 ** 20, liveBytes: native.liveBytes('cpu'), seconds: (performance.now() - t0) / 1000 });
    const last = samples.at(-1)!;
    process.stderr.write(`step ${step}: rss ${last.rssMiB.toFixed(2)} MiB, heap ${last.heapMiB.toFixed(2)}/${last.heapTotalMiB.toFixed(2)} MiB, external ${last.externalMiB.toFixed(2)} MiB, native ${last.liveBytes} B, ${last.seconds.toFixed(0)} s\n`);
  };
  try {
    const o = resolveTrainOptions({ data: join(dir, 'data'), out: join(dir, 'out'), backend: 'cpu', model: 'vgg11', widthDivisor: 8,
      batchNorm: true, optimizer: 'sgd', lr: 0.02, momentum: 0.9, batchSize: batch, epochs: Math.ceil(steps / stepsPerEpoch),
      limit: stepsPerEpoch * batch, display: stepsPerEpoch, evalEveryEpoch: false, saveEvery: flag('save-every', 1000) > 0 ? Math.max(1, Math.round(flag('save-every', 1000) / stepsPerEpoch)) : 1e9,
      augment: true, normalize: true, threads: flag('threads', 1), seed: 1 });
    sample(0);
    await runTraining(o, { onProgress: (p) => { if (p.step % every === 0) sample(p.step); } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return samples;
}

/** Growth of the last samples over the first sample after warm-up, in percent. */
export function growth(samples: Sample[], warmup: number, key: 'rssMiB' | 'liveBytes' | 'nonHeapMiB' | 'heapMiB'): { base: number; max: number; last: number; percent: number } {
  const after = samples.filter((s) => s.step >= warmup);
  const base = after[0][key];
  const max = Math.max(...after.map((s) => s[key]));
  const last = after.at(-1)![key];
  return { base, max, last, percent: (100 * (max - base)) / Math.max(base, 1e-9) };
}

async function main(): Promise<void> {
  const steps = flag('steps', 10_000);
  const every = flag('every', 500);
  // the per-epoch report (lib/report) loads its renderers lazily during the first epochs
  const warmup = flag('warmup', 2500);
  const samples = await soak(steps, every, flag('batch', 16));
  const rss = growth(samples, warmup, 'rssMiB');
  const nonHeap = growth(samples, warmup, 'nonHeapMiB');
  const heap = growth(samples, warmup, 'heapMiB');
  const live = growth(samples, warmup, 'liveBytes');
  const rows = samples.map((s) => `| ${s.step} | ${s.rssMiB.toFixed(2)} | ${s.rssFileMiB.toFixed(2)} | ${s.nonHeapMiB.toFixed(2)} | ${s.heapMiB.toFixed(2)} / ${s.heapTotalMiB.toFixed(2)} | ${s.liveBytes} | ${s.seconds.toFixed(0)} |`);
  const pct = (g: { base: number; max: number; last: number; percent: number }, d = 2) => `${g.base.toFixed(d)} -> max ${g.max.toFixed(d)}, last ${g.last.toFixed(d)} (+${g.percent.toFixed(3)}%)`;
  const md = ['| step | RSS (MiB) | of which file-backed (MiB) | anonymous RSS outside the V8 heap (MiB) | V8 heap used / reserved (MiB) | native.liveBytes | s |', '|---:|---:|---:|---:|---:|---:|---:|', ...rows, '',
    `After warm-up (step ${warmup}): RSS ${pct(rss)} MiB; anonymous RSS outside the V8 heap ${pct(nonHeap)} MiB; V8 heap used ${pct(heap)} MiB; ` +
    `native.liveBytes ${pct(live, 0)}.`].join('\n');
  process.stdout.write(md + '\n');
  const json = process.argv.indexOf('--json');
  if (json > 0) writeFileSync(process.argv[json + 1], JSON.stringify({ samples, rss, nonHeap, heap, live }, null, 1));
  if (nonHeap.percent >= 1 || live.percent > 0) {
    process.stderr.write(`soak: FAILED: anonymous RSS outside the V8 heap grew ${nonHeap.percent.toFixed(3)}%, native live bytes ${live.percent.toFixed(3)}% after warm-up\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();

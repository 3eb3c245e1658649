// Soak: trains a small VGG for 10,000 steps on the CPU through the real loop (runTraining, checkpoints and
// the per-epoch run.json + report.html included) and samples resident memory and the addon's live bytes
// every 500 steps. A leak of a few bytes per step shows up as a steady climb. Pass mark: RSS grows < 1%
// after warm-up, and native.liveBytes not at all. RSS is reported split into file-backed pages, the V8
// heap (resident, used, committed) and the anonymous rest (the addon's buffers, oneDNN, malloc).
// Usage: node --expose-gc dist/bench/soak.js [--report 0] [--steps N] [--every N] [--warmup N] [--batch N] [--epoch-steps N] [--save-every N] [--json FILE] [--bf16]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { native } from '../lib/backend.js';
import { IMAGE_BYTES, META_FILE, RECORD_BYTES, TEST_FILES, TRAIN_FILES } from '../lib/data/layout.js';
import { runTraining } from '../lib/report/training.js';
import { resolveTrainOptions } from '../lib/train/options.js';

interface Sample { step: number; rssMiB: number; rssFileMiB: number; rssAnonMiB: number; heapResidentMiB: number; nonHeapMiB: number; heapMiB: number; heapTotalMiB: number; externalMiB: number; liveBytes: number; seconds: number;
  /** Per V8 heap space: [committed, resident, used] in KiB (new space resizing shows up here). */
  spaces: Record<string, [number, number, number]> }

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
    // The second full GC waits for the first one's concurrent sweeping (ArrayBuffer backing stores freed
    // on a V8 thread), so what was garbage before the sample is freed, not half of it.
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    const status = readFileSync('/proc/self/status', 'utf8');
    const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    // RssFile: pages of the node binary and shared libraries (oneDNN kernels) mapped in on first use; not a leak.
    // The V8 heap's resident part is the sum of its spaces' physical sizes (heapTotal is committed, not resident).
    const stats = getHeapSpaceStatistics();
    const heapResident = stats.reduce((a, x) => a + x.physical_space_size, 0) / 2 ** 20;
    samples.push({ step, rssMiB: m.rss / 2 ** 20, rssFileMiB: kib('RssFile') / 1024, rssAnonMiB: kib('RssAnon') / 1024, heapResidentMiB: heapResident,
      nonHeapMiB: kib('RssAnon') / 1024 - heapResident, heapMiB: m.heapUsed / 2 ** 20, heapTotalMiB: m.heapTotal / 2 ** 20,
      externalMiB: m.external / 2 ** 20, liveBytes: native.liveBytes('cpu'), seconds: (performance.now() - t0) / 1000,
      spaces: Object.fromEntries(stats.map((x) => [x.space_name.replace('_space', ''), [Math.round(x.space_size / 1024), Math.round(x.physical_space_size / 1024), Math.round(x.space_used_size / 1024)]])) });
    const last = samples.at(-1)!;
    process.stderr.write(`step ${step}: rss ${last.rssMiB.toFixed(2)} MiB (file ${last.rssFileMiB.toFixed(2)}, anon ${last.rssAnonMiB.toFixed(2)}: V8 heap ${last.heapResidentMiB.toFixed(2)} resident, ` +
      `${last.heapMiB.toFixed(2)} used, ${last.heapTotalMiB.toFixed(2)} committed; rest ${last.nonHeapMiB.toFixed(2)}), external ${last.externalMiB.toFixed(2)} MiB, native ${last.liveBytes} B, ${last.seconds.toFixed(0)} s; ` +
      `spaces ${Object.entries(last.spaces).filter(([, [c]]) => c > 0).map(([k, [c, r, u]]) => `${k} ${u}/${r}/${c}K`).join(' ')}\n`);
  };
  try {
    const o = resolveTrainOptions({ data: join(dir, 'data'), out: join(dir, 'out'), backend: 'cpu', model: 'vgg11', widthDivisor: 8,
      batchNorm: true, optimizer: 'sgd', lr: 0.02, momentum: 0.9, batchSize: batch, epochs: Math.ceil(steps / stepsPerEpoch),
      limit: stepsPerEpoch * batch, display: stepsPerEpoch, evalEveryEpoch: false, saveEvery: flag('save-every', 1000) > 0 ? Math.max(1, Math.round(flag('save-every', 1000) / stepsPerEpoch)) : 1e9,
      augment: true, normalize: true, report: flag('report', 1) !== 0, threads: flag('threads', 1), seed: 1,
      precision: process.argv.includes('--bf16') ? 'bf16' : 'fp32' });
    sample(0);
    await runTraining(o, { onProgress: (p) => { if (p.step % every === 0) sample(p.step); } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return samples;
}

/** Growth of the last samples over the first sample after warm-up, in percent. */
export function growth(samples: Sample[], warmup: number, key: 'rssMiB' | 'liveBytes' | 'nonHeapMiB' | 'heapMiB' | 'heapResidentMiB'): { base: number; max: number; last: number; percent: number } {
  const after = samples.filter((s) => s.step >= warmup);
  const base = after[0][key];
  const max = Math.max(...after.map((s) => s[key]));
  const last = after.at(-1)![key];
  return { base, max, last, percent: (100 * (max - base)) / Math.max(base, 1e-9) };
}

async function main(): Promise<void> {
  const steps = flag('steps', 10_000);
  const every = flag('every', 500);
  // Warm-up: the first checkpoints (steps 1,000 and 2,000) and reports, oneDNN's kernels paged in and
  // V8's young generation grown to its working size all happen in the first 2,000 steps.
  const warmup = flag('warmup', 2500);
  const samples = await soak(steps, every, flag('batch', 16));
  const rss = growth(samples, warmup, 'rssMiB');
  const nonHeap = growth(samples, warmup, 'nonHeapMiB');
  const heapResident = growth(samples, warmup, 'heapResidentMiB');
  const heap = growth(samples, warmup, 'heapMiB');
  const live = growth(samples, warmup, 'liveBytes');
  const rows = samples.map((s) => `| ${s.step} | ${s.rssMiB.toFixed(2)} | ${s.rssFileMiB.toFixed(2)} | ${s.nonHeapMiB.toFixed(2)} | ` +
    `${s.heapResidentMiB.toFixed(2)} | ${s.heapMiB.toFixed(2)} / ${s.heapTotalMiB.toFixed(2)} | ${s.liveBytes} | ${s.seconds.toFixed(0)} |`);
  const pct = (g: { base: number; max: number; last: number; percent: number }, d = 2) => `${g.base.toFixed(d)} -> max ${g.max.toFixed(d)}, last ${g.last.toFixed(d)} (+${g.percent.toFixed(3)}%)`;
  const md = ['| step | RSS (MiB) | file-backed | anonymous outside the V8 heap | V8 heap resident | V8 heap used / committed | native.liveBytes | s |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|', ...rows, '',
    `After warm-up (step ${warmup}): RSS ${pct(rss)} MiB; anonymous outside the V8 heap ${pct(nonHeap)} MiB; V8 heap resident ${pct(heapResident)} MiB, ` +
    `used ${pct(heap)} MiB; native.liveBytes ${pct(live, 0)}.`].join('\n');
  process.stdout.write(md + '\n');
  const json = process.argv.indexOf('--json');
  if (json > 0) writeFileSync(process.argv[json + 1], JSON.stringify({ samples, rss, nonHeap, heapResident, heap, live }, null, 1));
  if (rss.percent >= 1 || live.percent > 0) {
    process.stderr.write(`soak: FAILED: RSS grew ${rss.percent.toFixed(3)}% after warm-up (pass: < 1%), native live bytes ${live.percent.toFixed(3)}% (pass: 0)\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();

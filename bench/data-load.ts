// Load time of the full CIFAR-10 binary dataset (60,000 images): read + validate into host arrays, then
// upload to the cpu backend; median of several runs, against the time to merely read the six files
// (the floor set by the disk / page cache). Writes the "CIFAR-10 load time" section of bench/RESULTS.md.
// Usage: node dist/bench/data-load.js [DATA_DIR] [--runs N] [--no-write]
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../lib/backend.js';
import { BATCHES_DIR, META_FILE, TEST_FILES, TRAIN_FILES, locateCifar10, readCifar10, splitToDevice } from '../lib/data/index.js';
import { realCifarCopy } from './real-cifar.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

export interface LoadTimes { readFilesMs: number; readCifarMs: number; uploadMs: number; runs: number; images: number; }

export async function measure(source: string, runs: number): Promise<LoadTimes> {
  const dir = await locateCifar10(source);
  const files = [...TRAIN_FILES, ...TEST_FILES, META_FILE].map((f) => join(dir, f));
  const rf: number[] = [], rc: number[] = [], up: number[] = [];
  let images = 0;
  for (let r = 0; r < runs + 1; r++) {
    let t = process.hrtime.bigint();
    for (const f of files) await readFile(f);
    const readFilesMs = ms(t);
    t = process.hrtime.bigint();
    const data = await readCifar10(dir);
    const readCifarMs = ms(t);
    t = process.hrtime.bigint();
    const train = splitToDevice(data.train!, 'cpu');
    const test = splitToDevice(data.test!, 'cpu');
    const uploadMs = ms(t);
    images = train.count + test.count;
    train.dispose();
    test.dispose();
    if (r === 0) continue; // warm-up: page cache, JIT
    rf.push(readFilesMs); rc.push(readCifarMs); up.push(uploadMs);
  }
  return { readFilesMs: median(rf), readCifarMs: median(rc), uploadMs: median(up), runs, images };
}

export function section(t: LoadTimes): string {
  const cpu = cpus();
  const gb = (t.images * 3073) / 1e9;
  return [
    '## CIFAR-10 load time',
    '',
    `Machine: ${cpu[0]?.model ?? 'unknown CPU'} (${cpu.length} logical cores, shared with other work), ` +
      `${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}; files in the page cache (warm). ` +
      `Median of ${t.runs} runs after one warm-up (\`node dist/bench/data-load.js\`).`,
    '',
    '| step | time | rate |',
    '|---|---:|---:|',
    `| read the 6 batch files + meta (fs.readFile only: the floor) | ${t.readFilesMs.toFixed(0)} ms | ${(gb / (t.readFilesMs / 1e3)).toFixed(2)} GB/s |`,
    `| readCifar10: read + validate into one uint8 array per split (${t.images.toLocaleString('en')} images) | ${t.readCifarMs.toFixed(0)} ms | ${(gb / (t.readCifarMs / 1e3)).toFixed(2)} GB/s |`,
    `| splitToDevice(cpu) for train + test | ${t.uploadMs.toFixed(0)} ms | |`,
    `| **total to a device-resident dataset** | **${(t.readCifarMs + t.uploadMs).toFixed(0)} ms** | |`,
    '',
  ].join('\n');
}

/** Replaces (or appends) the "## CIFAR-10 load time" section, leaving the other sections alone. */
export function replaceSection(doc: string, body: string): string {
  const head = '## CIFAR-10 load time';
  const start = doc.indexOf(head);
  if (start < 0) return (doc.trimEnd() ? doc.trimEnd() + '\n\n' : '# Benchmark results\n\n') + body;
  const next = doc.indexOf('\n## ', start + head.length);
  return doc.slice(0, start) + body + (next < 0 ? '' : '\n' + doc.slice(next + 1));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
  const positional = args.filter((a, i) => !a.startsWith('--') && (runsAt < 0 || i !== runsAt + 1));
  const root = packageRoot();
  const source = positional[0] ?? realCifarCopy(root);
  if (!source) throw new Error(`data-load: give a CIFAR-10 folder (with ${BATCHES_DIR}/), or provide ../shared/cifar10`);
  const t = await measure(source, runs);
  const body = section(t);
  process.stdout.write(body);
  if (!args.includes('--no-write')) {
    const path = join(root, 'bench', 'RESULTS.md');
    const doc = await readFile(path, 'utf8').catch(() => '');
    await writeFile(path, replaceSection(doc, body));
    process.stdout.write(`(written to ${path})\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
}

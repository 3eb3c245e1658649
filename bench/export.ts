// Export time of the report's VGG16 (14.7M parameters, a 59 MB checkpoint) to each format: the whole
// call (read and check the checkpoint, convert, write atomically with fsync), median of several runs
// after a warm-up, wall and CPU time (on a shared machine the CPU time is the steadier figure).
// Usage: node dist/bench/export.js [--runs N]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { vgg16 } from '../lib/models/vgg.js';
import { initialize } from '../lib/nn/init.js';
import { saveCheckpoint } from '../lib/nn/checkpoint.js';
import { exportModel, EXPORT_FORMATS, type ExportFormat } from '../lib/export/index.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface ExportTimes { format: ExportFormat; wallMs: number; cpuMs: number; bytes: number }

export function measure(runs: number): ExportTimes[] {
  const dir = mkdtempSync(join(tmpdir(), 'vgg-cifar-bench-export-'));
  try {
    const model = vgg16();
    initialize(model, { seed: 1 });
    const checkpoint = join(dir, 'vgg16.safetensors');
    saveCheckpoint(checkpoint, { model, extra: { options: { normalize: true } } });
    model.dispose();
    return EXPORT_FORMATS.map((format) => {
      const wall: number[] = [];
      const cpu: number[] = [];
      let bytes = 0;
      for (let r = 0; r < runs + 1; r++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const res = exportModel(format, { checkpoint, out: join(dir, `out.${format}`), force: true });
        const c = process.cpuUsage(c0);
        bytes = res.bytes;
        if (r === 0) continue; // warm-up: page cache, JIT
        wall.push(performance.now() - t0);
        cpu.push((c.user + c.system) / 1000);
      }
      return { format, wallMs: median(wall), cpuMs: median(cpu), bytes };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const at = process.argv.indexOf('--runs');
  const runs = at >= 0 ? Number(process.argv[at + 1]) : 5;
  const rows = measure(runs);
  process.stdout.write([
    `VGG16 (report) export, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} logical cores), Node ${process.version}; median of ${runs} runs after a warm-up`,
    '',
    '| format | output | wall | CPU (user + sys) |',
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.format} | ${(r.bytes / 1e6).toFixed(1)} MB | ${r.wallMs.toFixed(0)} ms | ${r.cpuMs.toFixed(0)} ms |`),
    '',
  ].join('\n'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();

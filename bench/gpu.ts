// `node dist/bench/gpu.js`: training images/s of VGG16 (the report's) and VGG16-BN at batch 128 and 512
// on the CUDA backend in fp32 (TF32 off), TF32 and bf16 mixed precision (nhwc bf16 activations, fp32 master
// weights), and PyTorch eager on the same card in the same run (the same three: bf16 as autocast +
// channels_last; cudnn.benchmark), plus PyTorch with torch.compile for the bf16 rows (--compile MODES,
// e.g. default,reduce-overhead; none to skip). Prints a table naming the card.
// Options: --models vgg16,vgg16-bn --batches 128,512 --precisions fp32,tf32,bf16 --compile default
//          --compile-batches 128,512 (the batches that get compiled rows) --rounds 20 --warmup 5 --graphs on,off (our step
//          replayed as a CUDA graph, and eager; the ratios are of the first). VGG_CIFAR_PROFILE=1 prints the profiler's table
//          for each of our eager rows.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { backends, native, packageRoot } from '../lib/backend.js';
import { benchVggCifar, median } from './vgg-cifar.js';
import { arg, argList } from './argv.js';


interface PyResult { version: string; imagesPerSecond: number; warmupSeconds?: number }

function pytorch(py: string, args: string[]): PyResult | string {
  const r = spawnSync(py, [join(packageRoot(), 'bench', 'pytorch', 'bench.py'), ...args], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return (r.stderr || r.error?.message || 'failed').trim().split('\n').at(-1)!;
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as PyResult;
}

async function main(): Promise<void> {
  const cuda = backends().find((b) => b.device === 'cuda');
  if (!cuda?.available) {
    process.stdout.write(`bench/gpu: the CUDA backend cannot run here: ${cuda?.reason ?? 'not compiled'}\n`);
    return;
  }
  const py = process.env.VGG_CIFAR_PYTHON ?? 'python3';
  const models = argList('models', 'vgg16,vgg16-bn');
  const batches = argList('batches', '128,512').map(Number);
  const precisions = argList('precisions', 'fp32,tf32,bf16') as Array<'fp32' | 'tf32' | 'bf16'>;
  const compileModes = argList('compile', 'default');
  const compileBatches = argList('compile-batches', '128,512').map(Number);
  const rounds = Number(arg('rounds', '20')), warmup = Number(arg('warmup', '5'));
  const graphModes = argList('graphs', 'on,off') as Array<'on' | 'off'>;
  if (!graphModes.length || graphModes.some((g) => g !== 'on' && g !== 'off')) throw new RangeError(`--graphs takes on and/or off, got ${graphModes.join(',')}`);
  const rows: string[] = ['| framework | precision | model | batch | images/s | vgg-cifar / this |', '|---|---|---|---:|---:|---:|'];
  const print = (row: string) => { rows.push(row); process.stderr.write(`${row}\n`); };
  for (const model of models) {
    const bn = model === 'vgg16-bn';
    for (const batch of batches) {
      for (const precision of precisions) {
        native.setTf32(precision === 'tf32');
        let oursIps = NaN;
        for (const g of graphModes) {
          const ours = await benchVggCifar('cuda', 'train', batch, bn, warmup, rounds, precision === 'bf16' ? 'bf16' : 'fp32', g)
            .catch((e: Error) => ({ times: [] as number[], error: e.message }));
          const ips = ours.times.length ? batch / median(ours.times) : NaN;
          if (Number.isNaN(oursIps)) oursIps = ips;
          print(`| vgg-cifar${g === 'on' ? ' graphs' : ' eager'} | ${precision} | ${model} | ${batch} | ${ips.toFixed(0)} | ${(oursIps / ips).toFixed(2)} |${ours.error ? ' ' + ours.error : ''}${'graphsNote' in ours && ours.graphsNote ? ' ' + ours.graphsNote : ''}`);
        }
        native.setTf32(false);
        const base = ['--device', 'cuda', '--batch', String(batch), '--precision', precision, '--warmup', String(warmup), '--rounds', String(rounds),
          ...(bn ? ['--bn'] : []), ...(precision === 'bf16' ? ['--channels-last'] : [])];
        for (const mode of ['eager', ...(precision === 'bf16' && compileBatches.includes(batch) ? compileModes : [])]) {
          const o = pytorch(py, mode === 'eager' ? base : [...base, '--compile', mode]);
          const name = mode === 'eager' ? 'pytorch' : `pytorch compile(${mode})`;
          if (typeof o === 'string') { print(`| ${name} | ${precision} | ${model} | ${batch} | - | - | ${o} |`); continue; }
          const note = mode === 'eager' ? '' : ` (compile + warm-up ${o.warmupSeconds?.toFixed(0)} s)`;
          print(`| ${name} ${o.version} | ${precision} | ${model} | ${batch} | ${o.imagesPerSecond.toFixed(0)} | ${(oursIps / o.imagesPerSecond).toFixed(2)} |${note}`);
        }
      }
    }
  }
  process.stdout.write(`card: ${cuda.description}\n${rows.join('\n')}\n`);
  // What the default NHWC path (auto) picked per shape on this card, for the bf16 rows.
  const tuned = (backends().find((b) => b.device === 'cuda')!.details as Record<string, string>).nhwcTuned;
  if (tuned) process.stdout.write(`\nnhwc tuned (VGG_CIFAR_CUDA_NHWC=auto): ${tuned}\n`);
}

main().catch((e) => { process.stderr.write(`bench/gpu: ${(e as Error).stack}\n`); process.exit(1); });

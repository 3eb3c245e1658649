// `node dist/bench/gpu.js`: training images/s of VGG16 (the report's) and VGG16-BN at batch 128 and 512
// on the CUDA backend in fp32 (TF32 off), TF32 and bf16 mixed precision (nhwc bf16 activations, fp32 master
// weights), and PyTorch eager on the same card in the same run (the same three: bf16 as autocast +
// channels_last; cudnn.benchmark). Prints a table naming the card.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { backends, native, packageRoot } from '../lib/backend.js';
import { benchVggCifar, median } from './vgg-cifar.js';


async function main(): Promise<void> {
  const cuda = backends().find((b) => b.device === 'cuda');
  if (!cuda?.available) {
    process.stdout.write(`bench/gpu: the CUDA backend cannot run here: ${cuda?.reason ?? 'not compiled'}\n`);
    return;
  }
  const py = process.env.VGG_CIFAR_PYTHON ?? 'python3';
  const rows: string[] = ['| framework | precision | model | batch | images/s | ratio vgg-cifar / framework |', '|---|---|---|---:|---:|---:|'];
  for (const bn of [false, true]) {
    for (const batch of [128, 512]) {
      const ips: Record<string, number> = {};
      for (const precision of ['fp32', 'tf32', 'bf16'] as const) {
        native.setTf32(precision === 'tf32');
        const ours = await benchVggCifar('cuda', 'train', batch, bn, 5, 20, precision === 'bf16' ? 'bf16' : 'fp32')
          .catch((e: Error) => ({ times: [] as number[], error: e.message }));
        ips[precision] = ours.times.length ? batch / median(ours.times) : NaN;
        rows.push(`| vgg-cifar | ${precision} | vgg16${bn ? '-bn' : ''} | ${batch} | ${ips[precision].toFixed(0)} | 1.00 |${ours.error ? ' ' + ours.error : ''}`);
      }
      native.setTf32(false);
      for (const precision of ['fp32', 'tf32', 'bf16']) {
        const oursIps = ips[precision];
        const args = [join(packageRoot(), 'bench', 'pytorch', 'bench.py'), '--device', 'cuda', '--batch', String(batch), '--precision', precision,
          '--warmup', '5', '--rounds', '20', ...(bn ? ['--bn'] : []), ...(precision === 'bf16' ? ['--channels-last'] : [])];
        const r = spawnSync(py, args, { encoding: 'utf8' });
        if (r.status !== 0) { rows.push(`| pytorch | ${precision} | vgg16${bn ? '-bn' : ''} | ${batch} | - | - | ${r.stderr.trim().split('\n').at(-1)} |`); continue; }
        const o = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
        rows.push(`| pytorch ${o.version} | ${precision} | vgg16${bn ? '-bn' : ''} | ${batch} | ${o.imagesPerSecond.toFixed(0)} | ${(oursIps / o.imagesPerSecond).toFixed(2)} |`);
      }
    }
  }
  process.stdout.write(`card: ${cuda.description}\n${rows.join('\n')}\n`);
}

main().catch((e) => { process.stderr.write(`bench/gpu: ${(e as Error).stack}\n`); process.exit(1); });

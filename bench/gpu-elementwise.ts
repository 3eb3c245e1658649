// Per-layer time of the non-convolution ops of a VGG16-BN training step at CIFAR shapes: BatchNorm forward
// (training, fused ReLU) and backward (masked by that ReLU), max-pool forward and backward, the
// convolution's bias gradient, and the unfused ReLU for scale; float32 in the preferred layout (plain on a
// GPU) and bfloat16 (nhwc). The nhwc ops run the path VGG_CIFAR_CUDA_NHWC picks (our kernels, cudnn:
// cuDNN's legacy calls, cudnn-ex: cudnnBatchNormalization*Ex with legacy pooling, auto: the default, the fastest
// of those per shape as timed on this card), chosen once per process; `--paths ours,cudnn,cudnn-ex,auto` runs one
// child process per path on the same card and adds a table of the nhwc BatchNorm and pooling times side by
// side, the fastest path per layer marked (auto's column shows whether the tuner's picks hold up).
// Usage: node dist/bench/gpu-elementwise.js [--device cuda] [--batch 128] [--reps 20] [--paths ours,cudnn,cudnn-ex,auto]
import { fileURLToPath } from 'node:url';
import { backends, native, type Device, type DType } from '../lib/backend.js';
import { deviceTimer, filledTensor } from './device-timing.js';
import { arg, argList } from './argv.js';
import { reportToParent, runPerValue } from './child-runs.js';

const device = arg('device', 'cuda') as Device;
const batch = Number(arg('batch', '128'));
const reps = Number(arg('reps', '20'));
const paths = argList('paths', '');

// [channels, map size] of VGG16's 13 BatchNorms; a max-pool follows layers 2, 4, 7, 10 and 13.
const LAYERS: Array<[number, number]> = [[64, 32], [64, 32], [128, 16], [128, 16], [256, 8], [256, 8], [256, 8], [512, 4], [512, 4],
  [512, 4], [512, 2], [512, 2], [512, 2]];
const POOL_AFTER = new Set([1, 3, 6, 9, 12]);
const pool = { kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 };
const COLS = ['bn fwd', 'bn bwd', 'pool fwd', 'pool bwd', 'bias grad', 'relu fwd', 'relu bwd'];

if (paths.length) {
  compare(paths);
  process.exit();  // 1 when a child failed (runPerValue)
}
const info = backends().find((b) => b.device === device)!;
if (!info.available) {
  console.error(`gpu-elementwise: the ${device} backend cannot run here: ${info.reason}`);
  process.exit(1);
}
const timer = deviceTimer(device, reps);
const details = info.details as Record<string, string>;
console.log(`${device}: ${info.description}, batch ${batch}; nhwc BatchNorm and pooling: ${details.nhwc ?? 'n/a'}`);
const measured: Record<string, number[][]> = {};
for (const dtype of ['float32', 'bfloat16'] as DType[]) {
  const total = COLS.map(() => 0);
  measured[dtype] = [];
  console.log(`\n${dtype} (${native.preferredLayout(device, [batch, 64, 32, 32], dtype)})\n| layer | C@HW | ${COLS.map((c) => `${c} ms`).join(' | ')} |\n|---|---|${COLS.map(() => '---:').join('|')}|`);
  LAYERS.forEach(([c, hw], i) => {
    const s = [batch, c, hw, hw];
    const act = (seed: number, shape = s) => filledTensor(device, shape, seed, dtype, true);
    const vec = (v: number) => { const t = native.empty(device, [c], 'float32'); native.fill(t, v); return t; };
    const [x, y, dy, dx] = [1, 2, 3, 4].map((k) => act(k + 10 * i));
    const [g, b, rm, rv, sm, si, dg, dbeta] = [1, 0, 0, 1, 0, 1, 0, 0].map(vec);
    const bn = { training: true, momentum: 0.1, eps: 1e-5, relu: true };
    const ms = [
      timer.time(() => native.batchNorm2dForward(x, g, b, rm, rv, y, sm, si, bn)),
      timer.time(() => native.batchNorm2dBackward(x, dy, g, sm, si, dx, dg, dbeta, 1e-5, y)),
      0, 0,
      // The conv's bias gradient: the part of conv2dBackwardFilter that is ours (a 1x1 kernel keeps cuDNN's share small).
      0,
      timer.time(() => native.reluForward(x, y)),
      timer.time(() => native.reluBackward(y, dy, dx)),
    ];
    if (POOL_AFTER.has(i)) {
      const ps = [batch, c, hw / 2, hw / 2];
      const [py, pdy] = [act(5 + 10 * i, ps), act(6 + 10 * i, ps)];
      const ws = native.empty(device, [Math.max(1, native.maxPool2dWorkspaceSize(x, py, pool))], 'uint8');
      ms[2] = timer.time(() => native.maxPool2dForward(x, py, ws, pool));
      ms[3] = timer.time(() => native.maxPool2dBackward(pdy, x, py, ws, dx, pool));
      for (const t of [py, pdy, ws]) t.dispose();
    }
    const w1 = native.empty(device, [c, c, 1, 1], 'float32'), db = native.empty(device, [c], 'float32');
    const p1 = { strideH: 1, strideW: 1, padH: 0, padW: 0 };
    const withBias = timer.time(() => native.conv2dBackwardFilter(x, dy, w1, db, p1));
    const without = timer.time(() => native.conv2dBackwardFilter(x, dy, w1, null, p1));
    ms[4] = Math.max(0, withBias - without);
    ms.forEach((v, k) => { total[k] += v; });
    measured[dtype].push(ms);
    const cell = (v: number, k: number) => (v || (k !== 2 && k !== 3) ? v.toFixed(3) : '-');
    console.log(`| ${i + 1} | ${c}@${hw} | ${ms.map(cell).join(' | ')} |`);
    for (const t of [x, y, dy, dx, g, b, rm, rv, sm, si, dg, dbeta, w1, db]) t.dispose();
  });
  const bnPool = total[0] + total[1] + total[2] + total[3] + total[4];
  console.log(`| total | | ${total.map((v) => v.toFixed(2)).join(' | ')} |`);
  console.log(`${dtype}: BatchNorm + pooling + bias gradient ${bnPool.toFixed(2)} ms per step (ReLU shown for scale; fused in training)`);
}
timer.dispose();
// What ran where (cudnn-ex: the shapes cuDNN refused run our kernels), then the numbers for a --paths parent.
const after = backends().find((b) => b.device === device)!.details as Record<string, string>;
if (after.nhwcEx) console.log(`\ncudnn-ex: ${after.nhwcEx}`);
if (after.nhwcTuned) console.log(`\nauto: ${after.nhwcTuned}`);
reportToParent(measured);

/** Runs this script once per path (the choice is per process) and prints each run, then the nhwc BatchNorm
 *  and pooling columns side by side. */
function compare(list: string[]): void {
  const runs = runPerValue<Record<string, number[][]>>(fileURLToPath(import.meta.url),
    ['--device', device, '--batch', String(batch), '--reps', String(reps)], 'VGG_CIFAR_CUDA_NHWC', list)
    .map((r) => ({ path: r.value, ms: r.data }));
  const ok = runs.filter((r) => r.ms);
  if (!ok.length) return;
  const dtype = 'bfloat16';  // the nhwc dtype (float32 runs plain NCHW on a GPU: cuDNN's path for every choice)
  const sums = (ms: number[]) => [ms[0] + ms[1], ms[2] + ms[3]];
  console.log(`\n## nhwc BatchNorm (fwd + bwd) and max pooling (fwd + bwd), ${dtype}, batch ${batch}: ms per layer\n`);
  console.log(`| layer | C@HW | ${ok.map((r) => `bn ${r.path}`).join(' | ')} | fastest bn | ${ok.map((r) => `pool ${r.path}`).join(' | ')} | fastest pool |`);
  console.log(`|---|---|${ok.map(() => '---:').join('|')}|---|${ok.map(() => '---:').join('|')}|---|`);
  const fastest = (v: number[]) => (v.every((x) => x === 0) ? '-' : ok[v.indexOf(Math.min(...v))].path);
  const total = ok.map(() => [0, 0]);
  LAYERS.forEach(([c, hw], i) => {
    const per = ok.map((r, k) => { const t = sums(r.ms![dtype][i]); total[k][0] += t[0]; total[k][1] += t[1]; return t; });
    const bn = per.map((t) => t[0]), pl = per.map((t) => t[1]);
    const cell = (v: number) => (v ? v.toFixed(3) : '-');
    console.log(`| ${i + 1} | ${c}@${hw} | ${bn.map(cell).join(' | ')} | ${fastest(bn)} | ${pl.map(cell).join(' | ')} | ${POOL_AFTER.has(i) ? fastest(pl) : '-'} |`);
  });
  console.log(`| total | | ${total.map((t) => t[0].toFixed(2)).join(' | ')} | ${fastest(total.map((t) => t[0]))} | ${total.map((t) => t[1].toFixed(2)).join(' | ')} | ${fastest(total.map((t) => t[1]))} |`);
}

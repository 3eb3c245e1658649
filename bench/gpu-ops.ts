// Per-layer convolution speed of VGG16 (CIFAR-10 shapes, 3x3, pad 1) on a device: forward, backward-data
// and backward-filter, GFLOP/s per direction and the sum over the 13 layers (the conv share of one
// training step). The first calls of each shape run cuDNN's algorithm search and are not timed.
// --dtype bfloat16: bf16 activations and weights in the backend's preferred layout (nhwc), fp32 biases and
// weight gradients, as bf16 mixed-precision training runs them.
// The forward is conv2dForward with the bias and the ReLU, as training runs it: which implementation runs it is
// VGG_CIFAR_CUDA_CONV's choice (legacy: cuDNN's convolution, then our bias+ReLU kernel; fused: one cuDNN
// graph-API plan), read once per process; `--conv legacy,fused` runs one child process per choice on the same
// card and adds a table of the forward times side by side, the faster per layer marked. `--forward-only`
// skips the backward directions (the comparison needs only the forward).
// Usage: node dist/bench/gpu-ops.js [--device cuda|cpu] [--batch N] [--reps N] [--dtype float32|bfloat16]
//          [--conv legacy,fused] [--forward-only]
// Prints a markdown table that names the device; paste it into bench/RESULTS.md with the date.
import { fileURLToPath } from 'node:url';
import { backends, native, type Device, type DType, type NativeTensor } from '../lib/backend.js';
import { deviceTimer, filledTensor } from './device-timing.js';
import { arg, argList } from './argv.js';
import { reportToParent, runPerValue } from './child-runs.js';

const device = arg('device', 'cuda') as Device;
const batch = Number(arg('batch', '128'));
const reps = Number(arg('reps', '20'));
const dtype = arg('dtype', 'float32') as DType;
if (dtype !== 'float32' && dtype !== 'bfloat16') throw new RangeError(`--dtype must be float32 or bfloat16, got ${dtype}`);
const convPaths = argList('conv', '');
const forwardOnly = process.argv.includes('--forward-only');

// [in channels, out channels, spatial size] of VGG16's convolutions on 32x32 inputs.
const LAYERS: Array<[number, number, number]> = [
  [3, 64, 32], [64, 64, 32], [64, 128, 16], [128, 128, 16], [128, 256, 8], [256, 256, 8], [256, 256, 8],
  [256, 512, 4], [512, 512, 4], [512, 512, 4], [512, 512, 2], [512, 512, 2], [512, 512, 2],
];
const P = { strideH: 1, strideW: 1, padH: 1, padW: 1 };

const filled = (shape: number[], seed: number, activation = true, fp32 = false): NativeTensor =>
  filledTensor(device, shape, seed, fp32 ? 'float32' : dtype, activation);

if (convPaths.length) {
  compare(convPaths);
  process.exit();  // 1 when a child failed (runPerValue)
}
const info = backends().find((b) => b.device === device)!;
if (!info.available) {
  console.error(`gpu-ops: the ${device} backend cannot run here: ${info.reason}`);
  process.exit(1);
}
const timer = deviceTimer(device, reps);
const precision = dtype === 'bfloat16' ? 'bf16 (fp32 dw)' : `fp32 (TF32 ${process.env.VGG_CIFAR_TF32 === '1' ? 'on' : 'off'})`;
const details = info.details as Record<string, string>;
console.log(`VGG16 convolutions, batch ${batch}, ${precision}, ${device}: ${info.description}; forward: ${details.conv ?? 'n/a'}\n`);
console.log('| layer | shape | fwd ms | fwd GFLOP/s | bwd-data ms | bwd-data GFLOP/s | bwd-filter ms | bwd-filter GFLOP/s |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
let total = 0;
let totalFlop = 0;
const forwardMs: number[] = [];
LAYERS.forEach(([cin, cout, hw], i) => {
  const x = filled([batch, cin, hw, hw], 1 + i);
  const w = filled([cout, cin, 3, 3], 100 + i, false);
  const b = filled([cout], 200 + i, false, true);
  const y = filled([batch, cout, hw, hw], 300 + i);
  const dx = filled([batch, cin, hw, hw], 400 + i);
  const dw = filled([cout, cin, 3, 3], 500 + i, false, true);
  const db = filled([cout], 600 + i, false, true);
  const flop = 2 * batch * cout * hw * hw * cin * 9;
  const f = timer.time(() => native.conv2dForward(x, w, b, y, P, true));
  const d = i === 0 || forwardOnly ? 0 : timer.time(() => native.conv2dBackwardData(y, w, dx, P));  // the first layer needs no dx
  const g = forwardOnly ? 0 : timer.time(() => native.conv2dBackwardFilter(x, y, dw, db, P));
  forwardMs.push(f);
  const gf = (ms: number) => (ms > 0 ? (flop / ms / 1e6).toFixed(1) : '-');
  const ms = (v: number) => (v ? v.toFixed(3) : '-');
  console.log(`| conv${i + 1} | ${cin}->${cout} @${hw}x${hw} | ${ms(f)} | ${gf(f)} | ${ms(d)} | ${gf(d)} | ${ms(g)} | ${gf(g)} |`);
  total += f + d + g;
  totalFlop += flop * (1 + (d ? 1 : 0) + (g ? 1 : 0));
  for (const t of [x, w, b, y, dx, dw, db]) t.dispose();
});
const what = forwardOnly ? 'forward' : 'forward + backward';
console.log(`\nAll 13 layers, ${what}: ${total.toFixed(2)} ms per step, ${(totalFlop / total / 1e9).toFixed(2)} TFLOP/s, ` +
  `${(batch / (total / 1000)).toFixed(0)} images/s (convolutions only)`);
timer.dispose();
// Which forwards ran fused and which cuDNN refused (the legacy path ran them), then the numbers for a --conv parent.
const fusedSummary = (backends().find((b) => b.device === device)!.details as Record<string, string>).convFused;
if (fusedSummary) console.log(`\nfused: ${fusedSummary}`);
reportToParent(forwardMs);

/** Runs this script once per VGG_CIFAR_CUDA_CONV value (the choice is per process) and prints each run, then
 *  the forward (+bias+ReLU) times side by side. */
function compare(list: string[]): void {
  const args = ['--device', device, '--batch', String(batch), '--reps', String(reps), '--dtype', dtype, ...(forwardOnly ? ['--forward-only'] : [])];
  const ok = runPerValue<number[]>(fileURLToPath(import.meta.url), args, 'VGG_CIFAR_CUDA_CONV', list).filter((r) => r.data);
  if (!ok.length) return;
  console.log(`\n## convolution forward + bias + ReLU, ${dtype}, batch ${batch}: ms per layer\n`);
  console.log(`| layer | shape | ${ok.map((r) => r.value).join(' | ')} | fastest | ${ok.slice(1).map((r) => `${r.value} / ${ok[0].value}`).join(' | ')} |`);
  console.log(`|---|---|${ok.map(() => '---:').join('|')}|---|${ok.slice(1).map(() => '---:').join('|')}|`);
  const row = (name: string, shape: string, v: number[]) => {
    const fastest = ok[v.indexOf(Math.min(...v))].value;
    console.log(`| ${name} | ${shape} | ${v.map((t) => t.toFixed(3)).join(' | ')} | ${fastest} | ${v.slice(1).map((t) => (t / v[0]).toFixed(2)).join(' | ')} |`);
  };
  LAYERS.forEach(([cin, cout, hw], i) => row(`conv${i + 1}`, `${cin}->${cout} @${hw}x${hw}`, ok.map((r) => r.data![i])));
  row('total', '', ok.map((r) => r.data!.reduce((a, b) => a + b, 0)));
}

// Per-layer convolution speed of VGG16 (CIFAR-10 shapes, 3x3, pad 1) on a device: forward, backward-data
// and backward-filter, GFLOP/s per direction and the sum over the 13 layers (the conv share of one
// training step). The first calls of each shape run cuDNN's algorithm search and are not timed.
// Usage: node dist/bench/gpu-ops.js [--device cuda|cpu] [--batch N] [--reps N]
// Prints a markdown table that names the device; paste it into bench/RESULTS.md with the date.
import { backends, native, type Device, type NativeTensor } from '../lib/backend.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
};
const device = arg('device', 'cuda') as Device;
const batch = Number(arg('batch', '128'));
const reps = Number(arg('reps', '20'));

// [in channels, out channels, spatial size] of VGG16's convolutions on 32x32 inputs.
const LAYERS: Array<[number, number, number]> = [
  [3, 64, 32], [64, 64, 32], [64, 128, 16], [128, 128, 16], [128, 256, 8], [256, 256, 8], [256, 256, 8],
  [256, 512, 4], [512, 512, 4], [512, 512, 4], [512, 512, 2], [512, 512, 2], [512, 512, 2],
];
const P = { strideH: 1, strideW: 1, padH: 1, padW: 1 };

function filled(shape: number[], seed: number, activation = true): NativeTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 32 - 0.5;
  }
  return native.fromArray(device, shape, data, 'float32', activation ? native.preferredLayout(device, shape) : 'plain');
}

let sink: NativeTensor;
/** Waits for the device: a tiny reduction read back to the host. */
function sync(t: NativeTensor): void {
  native.sumSquares(t, sink, false);
  native.toArray(sink);
}

function time(fn: () => void, out: NativeTensor): number {
  for (let i = 0; i < 3; i++) fn();
  sync(out);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) fn();
  sync(out);
  return Number(process.hrtime.bigint() - t0) / 1e6 / reps;
}

const info = backends().find((b) => b.device === device)!;
if (!info.available) {
  console.error(`gpu-ops: the ${device} backend cannot run here: ${info.reason}`);
  process.exit(1);
}
sink = native.empty(device, [1], 'float32');
console.log(`VGG16 convolutions, batch ${batch}, fp32 (TF32 ${process.env.VGG_CIFAR_TF32 === '1' ? 'on' : 'off'}), ${device}: ${info.description}\n`);
console.log('| layer | shape | fwd ms | fwd GFLOP/s | bwd-data ms | bwd-data GFLOP/s | bwd-filter ms | bwd-filter GFLOP/s |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
let total = 0;
let totalFlop = 0;
LAYERS.forEach(([cin, cout, hw], i) => {
  const x = filled([batch, cin, hw, hw], 1 + i);
  const w = filled([cout, cin, 3, 3], 100 + i, false);
  const b = filled([cout], 200 + i, false);
  const y = filled([batch, cout, hw, hw], 300 + i);
  const dx = filled([batch, cin, hw, hw], 400 + i);
  const dw = filled([cout, cin, 3, 3], 500 + i, false);
  const db = filled([cout], 600 + i, false);
  const flop = 2 * batch * cout * hw * hw * cin * 9;
  const f = time(() => native.conv2dForward(x, w, b, y, P, true), y);
  const d = i === 0 ? 0 : time(() => native.conv2dBackwardData(y, w, dx, P), dx);  // the first layer needs no dx
  const g = time(() => native.conv2dBackwardFilter(x, y, dw, db, P), dw);
  const gf = (ms: number) => (ms > 0 ? (flop / ms / 1e6).toFixed(1) : '-');
  console.log(`| conv${i + 1} | ${cin}->${cout} @${hw}x${hw} | ${f.toFixed(3)} | ${gf(f)} | ${d ? d.toFixed(3) : '-'} | ${gf(d)} | ${g.toFixed(3)} | ${gf(g)} |`);
  total += f + d + g;
  totalFlop += flop * (i === 0 ? 2 : 3);
  for (const t of [x, w, b, y, dx, dw, db]) t.dispose();
});
console.log(`\nAll 13 layers, forward + backward: ${total.toFixed(2)} ms per step, ${(totalFlop / total / 1e9).toFixed(2)} TFLOP/s, ` +
  `${(batch / (total / 1000)).toFixed(0)} images/s (convolutions only)`);
sink.dispose();

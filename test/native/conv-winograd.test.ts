// The CPU backend runs 3x3 stride-1 convolutions on maps of 8x8 and larger (4x4 and larger for
// backward-filter) through oneDNN's Winograd F(4x4, 3x3) kernel where the CPU has one (AVX-512).
// Checked here: those shapes against the float64 reference at the usual fp32 tolerance, and, from
// oneDNN's own execution log in a child process, which kernel each direction really ran.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { native, type Layout } from '../../lib/backend.js';
import { expectClose, rand, tensorIn } from '../helpers/check.js';
import { convBackwardDataRef, convBackwardFilterRef, convForwardRef, convOut, type ConvShape } from '../ref/conv.js';

const TOL = 1e-4;
const conv3 = (N: number, C: number, H: number, W: number, O: number): ConvShape =>
  ({ N, C, H, W, O, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 });

// Winograd-sized maps with VGG-like channel counts, an odd map, and 64 input channels (576-term sums).
const CASES: [ConvShape, Layout][] = [
  [conv3(2, 16, 8, 8, 32), 'nChw16c'],
  [conv3(3, 32, 12, 10, 16), 'nChw16c'],
  [conv3(2, 16, 9, 11, 16), 'nChw8c'],
  [conv3(2, 16, 8, 8, 16), 'plain'],
  [conv3(1, 64, 16, 16, 32), 'nChw16c'],
  [conv3(2, 32, 4, 4, 32), 'nChw16c'],  // 4x4: backward-filter only
];

describe('convolutions on Winograd-sized maps (cpu)', () => {
  it.each(CASES)('%o in %s layout: forward (bias, ReLU), backward-data, backward-filter vs float64', (s, layout) => {
    const { Ho, Wo } = convOut(s);
    const xd = [s.N, s.C, s.H, s.W], wd = [s.O, s.C, 3, 3], yd = [s.N, s.O, Ho, Wo];
    const seed = s.C * 100 + s.H;
    const x = rand(s.N * s.C * s.H * s.W, seed), w = rand(s.O * s.C * 9, seed + 1, -0.5, 0.5);
    const b = rand(s.O, seed + 2), dy = rand(s.N * s.O * Ho * Wo, seed + 3);
    const p = { strideH: 1, strideW: 1, padH: 1, padW: 1 };
    const X = tensorIn('cpu', xd, x, layout), W = tensorIn('cpu', wd, w, 'plain'), B = tensorIn('cpu', [s.O], b, 'plain');
    const Y = native.empty('cpu', yd, 'float32', layout), DY = tensorIn('cpu', yd, dy, layout), DX = native.empty('cpu', xd, 'float32', layout);
    const DW = native.empty('cpu', wd, 'float32'), DB = native.empty('cpu', [s.O], 'float32');
    native.conv2dForward(X, W, B, Y, p, true);
    expectClose(native.toArray(Y) as Float32Array, convForwardRef(s, x, w, b, true), TOL, 'forward');
    native.conv2dForward(X, W, null, Y, p, false);
    expectClose(native.toArray(Y) as Float32Array, convForwardRef(s, x, w, null, false), TOL, 'forward without bias/ReLU');
    native.conv2dBackwardData(DY, W, DX, p);
    expectClose(native.toArray(DX) as Float32Array, convBackwardDataRef(s, dy, w), TOL, 'backward-data');
    native.fill(DW, 9);
    native.fill(DB, 9);
    native.conv2dBackwardFilter(X, DY, DW, DB, p);
    const ref = convBackwardFilterRef(s, x, dy);
    expectClose(native.toArray(DW) as Float32Array, ref.dw, TOL, 'backward-filter dw');
    expectClose(native.toArray(DB) as Float32Array, ref.db, TOL, 'backward-filter db');
    for (const t of [X, W, B, Y, DY, DX, DW, DB]) t.dispose();
  });
});

// Runs one convolution of each direction per map size in a child with ONEDNN_VERBOSE=1 and returns
// "<direction> <map>: <kernel>" for every convolution oneDNN executed.
function kernelsRun(env: Record<string, string>): string[] {
  const backend = fileURLToPath(new URL('../../dist/lib/backend.js', import.meta.url));
  const code = `
    const { native } = await import(${JSON.stringify(backend)});
    const p = { strideH: 1, strideW: 1, padH: 1, padW: 1 };
    for (const hw of [8, 4]) {
      const X = native.empty('cpu', [2, 16, hw, hw], 'float32', 'nChw16c'), Y = native.empty('cpu', [2, 16, hw, hw], 'float32', 'nChw16c');
      const W = native.empty('cpu', [16, 16, 3, 3], 'float32');
      for (const t of [X, Y, W]) native.fill(t, 0.5);
      native.conv2dForward(X, W, null, Y, p, true);
      native.conv2dBackwardData(Y, W, X, p);
      native.conv2dBackwardFilter(X, Y, W, null, p);
    }`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, ONEDNN_VERBOSE: '1', ...env }, encoding: 'utf8' });
  return out.split('\n').filter((l) => /^onednn_verbose,exec,cpu,convolution,/.test(l)).map((l) => {
    const f = l.split(',');
    const map = /ih(\d+)/.exec(l)?.[1];
    return `${f[5]} ${map}x${map}: ${f[4]}`;
  });
}

describe('which convolution kernel runs (oneDNN execution log)', () => {
  const avx512 = /avx512/.test(native.backends().find((b) => b.device === 'cpu')?.details?.isa ?? '');
  const wino = (k: string) => /wino/.test(k);

  it('default: Winograd on 8x8 maps in all directions and for backward-filter on 4x4, direct below (AVX-512 CPUs)', () => {
    const runs = kernelsRun({});
    expect(runs.length).toBe(6);
    if (!avx512) {
      console.log('oneDNN 2.6 has Winograd only for AVX-512: checking that this CPU falls back to the direct kernels');
      expect(runs.filter(wino)).toEqual([]);
      return;
    }
    expect(runs.filter(wino).sort()).toEqual(['backward_data 8x8', 'backward_weights 4x4', 'backward_weights 8x8', 'forward_training 8x8']
      .map((r) => expect.stringContaining(r)));
    expect(runs.filter((r) => !wino(r)).map((r) => r.split(':')[0]).sort()).toEqual(['backward_data 4x4', 'forward_training 4x4']);
  });

  it('VGG_CIFAR_CONV_ALGO=direct turns Winograd off; =winograd uses it on every map', () => {
    expect(kernelsRun({ VGG_CIFAR_CONV_ALGO: 'direct' }).filter(wino)).toEqual([]);
    const forced = kernelsRun({ VGG_CIFAR_CONV_ALGO: 'winograd' });
    expect(forced.length).toBe(6);
    if (!avx512) {
      console.log('oneDNN 2.6 has Winograd only for AVX-512: forced Winograd must still fall back to direct here');
      expect(forced.filter(wino)).toEqual([]);
    } else expect(forced.filter(wino).length).toBe(6);
  });
});

describe('cached primitives on other threads', () => {
  it('a convolution cached by one thread runs from workers that start and exit later, and from the first thread again', () => {
    // oneDNN's default scratchpad is owned by the creating thread; with Winograd kernels (which need one)
    // a second train() in a new worker used to crash the process. A child process keeps a crash visible
    // as an exit status instead of taking the test runner down.
    const backend = fileURLToPath(new URL('../../dist/lib/backend.js', import.meta.url));
    const code = `
      import { Worker } from 'node:worker_threads';
      const body = (b) => \`
        const { native } = await import(\${JSON.stringify(b)});
        const p = { strideH: 1, strideW: 1, padH: 1, padW: 1 };
        const t = (s, seed) => native.fromArray('cpu', s, Float32Array.from({ length: s.reduce((a, c) => a * c) }, (_, i) => Math.sin(i * 0.37 + seed)));
        const X = t([4, 32, 16, 16], 1), W = t([32, 32, 3, 3], 2), DY = t([4, 32, 16, 16], 3);
        const Y = native.empty('cpu', [4, 32, 16, 16], 'float32'), DX = native.empty('cpu', [4, 32, 16, 16], 'float32'), DW = native.empty('cpu', [32, 32, 3, 3], 'float32');
        native.conv2dForward(X, W, null, Y, p, true); native.conv2dBackwardData(DY, W, DX, p); native.conv2dBackwardFilter(X, DY, DW, null, p);
        const sum = (T) => native.toArray(T).reduce((a, v) => a + v, 0);
        const out = [sum(Y), sum(DX), sum(DW)];\`;
      const inWorker = (b) => new Promise((resolve, reject) => {
        const w = new Worker(body(b) + "\\nconst { parentPort } = await import('node:worker_threads'); parentPort.postMessage(out);", { eval: true, type: 'module' });
        w.once('message', resolve); w.once('error', reject);
      });
      const b = ${JSON.stringify(backend)};
      const here = () => new Function('return (async () => {' + body(b) + '; return out; })()')();
      const r = [await here(), await inWorker(b), await inWorker(b), await here()];
      console.log(JSON.stringify(r));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const runs = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as number[][];
    expect(runs).toHaveLength(4);
    for (const run of runs.slice(1)) expect(run).toEqual(runs[0]);
  });
});

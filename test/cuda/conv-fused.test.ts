// The fused convolution candidate (VGG_CIFAR_CUDA_CONV=fused: convolution + bias + ReLU as one cuDNN graph-API
// execution plan, native/cuda/conv_fused.cc) against the CPU backend at every VGG16 convolution shape and the
// other GPU tests' convolution cases, in bf16 nhwc and fp32; every shape either ran fused or is reported as
// refused with cuDNN's status (the legacy path then ran it, and the parity checks cover that too); a captured
// fused convolution replays on new inputs. On the CUDA emulator, whose stand-in graph API takes every graph
// conv_fused.cc builds (native/emu/cudnn_graph.cc), every shape must run fused, and fp32 on the engine without
// the TENSOR_CORE note.
// Tolerances as in bf16.test.ts: the fused op rounds a bf16 output once (the legacy path rounds twice), well
// within BF16_RTOL; fp32 keeps 1e-4, which a TF32 engine (~1e-3) would fail: the check that engines with
// tensor-core or down-converting numerical notes are skipped for fp32 with TF32 off.
// The choice is read once per process; vitest runs every test file in a process of its own (pool 'forks',
// isolated), and the variable is set before the addon is loaded.
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.VGG_CIFAR_CUDA_CONV = 'fused';
});

import { backends, native, type DType, type NativeTensor } from '../../lib/backend.js';
import { toFloat32 } from '../../lib/tensor.js';
import { f32, rand } from '../helpers/check.js';
import { BF16_RTOL, FP32_RTOL } from './nhwc-batchnorm.js';
import { captureAfterWarmup, convCases, describeGpu, emulated, expectRel, gpu, make, outShape, parity, runOn, type Spec } from './parity.js';

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const P = { strideH: 1, strideW: 1, padH: 1, padW: 1 };
const BATCH = 4;
// [in channels, out channels, map size] of VGG16's 13 convolutions on 32x32 inputs.
const VGG16: Array<[number, number, number]> = [[3, 64, 32], [64, 64, 32], [64, 128, 16], [128, 128, 16], [128, 256, 8], [256, 256, 8],
  [256, 256, 8], [256, 512, 4], [512, 512, 4], [512, 512, 4], [512, 512, 2], [512, 512, 2], [512, 512, 2]];
const dtypes: DType[] = ['bfloat16', 'float32'];
const rtolOf = (dt: DType) => (dt === 'float32' ? FP32_RTOL : BF16_RTOL);

const details = () => (backends().find((b) => b.device === 'cuda')?.details ?? {}) as Record<string, string>;

/** x, w, bias and y of a forward in `dtype` (activations in the preferred layout, weights plain, bias fp32). */
function convSpecs(x: number[], w: number[], dtype: DType, seed: number, p: typeof P = P): Record<string, Spec> {
  const data = (shape: number[], s: number, lo = -1, hi = 1) => f32(rand(numel(shape), s, lo, hi));
  return {
    x: { shape: x, data: data(x, seed), dtype, act: true },
    w: { shape: w, data: data(w, seed + 1, -0.2, 0.2), dtype },
    b: { shape: [w[0]], data: data([w[0]], seed + 2) },
    y: { shape: outShape(x, w, p), dtype, act: true },
  };
}

/** The key conv_fused.cc reports a plan under, in the call's format (nhwc for bf16, nchw for fp32). */
const planKey = (dtype: DType, [cin, cout, hw]: [number, number, number], relu: boolean, nhwc = dtype === 'bfloat16') =>
  `${dtype}[${BATCH},${cin},${hw},${hw}]${nhwc ? 'nhwc' : 'nchw'} * [${cout},${cin},3,3] s1,1 p1,1 ` +
  `${relu ? '+bias+relu' : '+bias'}${dtype === 'float32' ? ' fp32' : ''}`;

describe('VGG_CIFAR_CUDA_CONV=fused', () => {
  it.skipIf(details().conv === undefined)("reaches this file's addon: the status reports the fused path", () => {
    expect(details().conv).toMatch(/^fused/);
  });
});

describeGpu('fused convolution + bias (+ReLU) matches the cpu backend', () => {
  for (const dtype of dtypes)
    it.each(VGG16.map((l, i) => ({ n: i + 1, l })))(`VGG16 conv$n: $l (${dtype}), with and without the ReLU`, ({ n, l: [cin, cout, hw] }) => {
      for (const relu of [false, true])
        parity(convSpecs([BATCH, cin, hw, hw], [cout, cin, 3, 3], dtype, 10 * n + (relu ? 5 : 0)), ['y'],
          (t) => native.conv2dForward(t.x!, t.w!, t.b, t.y!, P, relu), rtolOf(dtype));
    });

  it.skipIf(gpu !== 'cuda')('every VGG16 shape above ran fused or is reported as refused by cuDNN, with its status', () => {
    const d = details();
    console.log(`convFused: ${d.convFused}`);
    expect(d.conv).toMatch(/^fused: /);  // the loaded cuDNN has the graph API
    const [ran, rest] = d.convFused.split('. Refused (the legacy path ran): ');
    const refused = rest.split('. Calls with a pointer not')[0];
    expect(d.convFused).toMatch(/Calls with a pointer not 16-byte aligned \(the legacy path ran\): 0$/);
    for (const dtype of dtypes)
      for (const layer of VGG16)
        for (const relu of [false, true]) {
          // A bf16 shape the legacy path has no NHWC algorithm for runs bf16 NCHW from then on (conv.cc's withMode),
          // its later calls too: the fused path then tried the NCHW plan.
          const keys = dtype === 'bfloat16' ? [planKey(dtype, layer, relu), planKey(dtype, layer, relu, false)] : [planKey(dtype, layer, relu)];
          const seen = keys.filter((key) => ran.includes(`${key} (engine `) || refused.includes(`${key} (`));
          expect(seen.length, `${keys[0]} was tried`).toBeGreaterThan(0);
          for (const key of seen) {
            const inRan = ran.includes(`${key} (engine `), inRefused = refused.includes(`${key} (`);
            expect(inRan !== inRefused, `${key} ran fused or was refused (exactly one)`).toBe(true);
            if (inRefused) {
              const why = refused.slice(refused.indexOf(`${key} (`) + key.length + 2);
              expect(why, key).toMatch(/^(cudnn\w+ \([^)]*\): .*status \d+|no engine config finalized \(\d+ suggested)/);
            }
          }
        }
    // The point of the candidate: cuDNN's runtime fusion takes the bf16 nhwc layers with 64 or more channels.
    expect(ran).toContain(planKey('bfloat16', VGG16[1], true));
    if (emulated) {
      // The emulated cuDNN (native/emu/cudnn_graph.cc) takes every graph conv_fused.cc builds, so a refusal there is a
      // misuse of the graph API. Its heuristics suggest engine 0 (numerical note TENSOR_CORE), then engine 1 (none):
      // fp32 with TF32 off must skip engine 0, bf16 takes it.
      expect(refused).toBe('none');
      for (const dtype of dtypes)
        for (const layer of VGG16)
          for (const relu of [false, true]) expect(ran).toContain(`${planKey(dtype, layer, relu)} (engine ${dtype === 'float32' ? 1 : 0}, `);
    }
  });

  // Strides, paddings and filter sizes other than VGG16's 3x3/1 (after the check above of which VGG16 shapes ran
  // fused: these add plans of their own). On the emulator they must run fused, so that its graph API computes them.
  it.each(convCases)('the GPU tests\' convolution case $x * $w (bfloat16 and float32), with and without the ReLU', ({ x, w, p }) => {
    for (const dtype of dtypes)
      for (const relu of [false, true])
        parity(convSpecs(x, w, dtype, 200 + x[1] + (relu ? 1 : 0), p), ['y'], (t) => native.conv2dForward(t.x!, t.w!, t.b, t.y!, p, relu), rtolOf(dtype));
    if (emulated) expect(details().convFused).toContain('Refused (the legacy path ran): none.');
  });

  it.skipIf(gpu !== 'cuda')("a fused plan's first call is refused inside a capture (building it may allocate and synchronize)", () => {
    const t = Object.fromEntries(Object.entries(convSpecs([2, 64, 8, 8], [32, 64, 3, 3], 'bfloat16', 70)).map(([k, s]) => [k, make('cuda', s)]));
    // Without a bias the legacy path runs: it finds its algorithm and makes the weights' KRSC copy eagerly, so
    // inside the capture only the fused plan is new.
    native.conv2dForward(t.x, t.w, null, t.y, P, true);
    native.graphCaptureBegin('cuda');
    try {
      expect(() => native.conv2dForward(t.x, t.w, t.b, t.y, P, true)).toThrow(/building a fused convolution plan/);
    } finally {
      native.graphCaptureAbort('cuda');
      for (const v of Object.values(t)) v.dispose();
    }
  });

  it.skipIf(gpu !== 'cuda')('a captured fused convolution replays on new inputs, weights and bias what it computes eagerly (bf16 nhwc)', () => {
    const x = [8, 64, 16, 16], w = [64, 64, 3, 3];
    const specs = convSpecs(x, w, 'bfloat16', 80);
    const t: Record<string, NativeTensor> = Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, make('cuda', s)]));
    const yEager = make('cuda', specs.y);
    const step = () => native.conv2dForward(t.x, t.w, t.b, t.y, P, true);
    const g = captureAfterWarmup(step);  // the plan is built by the eager call
    const staged: NativeTensor[] = [];
    for (let k = 0; k < 2; k++) {
      // New contents for every input, written the way training writes them (casts from fp32).
      const next: Record<string, Spec> = { ...specs };
      for (const [name, seed] of [['x', 90], ['w', 91], ['b', 92]] as const) {
        const s = specs[name];
        next[name] = { ...s, data: f32(rand(numel(s.shape), seed + 10 * k, name === 'w' ? -0.2 : -1, name === 'w' ? 0.2 : 1)) };
        const fresh = make('cuda', next[name]);
        native.copy(fresh, t[name]);
        staged.push(fresh);
      }
      native.graphLaunch(g);
      native.conv2dForward(t.x, t.w, t.b, yEager, P, true);
      const got = toFloat32(t.y);
      expect(Array.from(got), 'replay vs eager').toEqual(Array.from(toFloat32(yEager)));
      const cpu = runOn('cpu', next, (c) => native.conv2dForward(c.x!, c.w!, c.b, c.y!, P, true));
      expectRel(got, cpu.y as Float32Array, BF16_RTOL, `replay ${k} vs cpu`);
    }
    expect(details().convFused).toContain(`bfloat16[8,64,16,16]nhwc * [64,64,3,3] s1,1 p1,1 +bias+relu (engine `);
    g.dispose();
    for (const v of [...Object.values(t), yEager, ...staged]) v.dispose();
  });
});

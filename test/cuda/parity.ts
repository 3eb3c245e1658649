// Runs one op on the CPU and on the GPU with the same inputs and returns both sets of outputs, so every
// CUDA op is checked against the CPU backend (itself checked against float64 references in test/nn).
import { describe, expect, it } from 'vitest';
import { native, type Device, type DType, type Layout, type NativeGraph, type NativeTensor } from '../../lib/backend.js';
import { cudaUnavailableReason, rand } from '../helpers/check.js';
import { toFloat32 } from '../../lib/tensor.js';

export type Host = Float32Array | Uint8Array | Int32Array;
export interface Spec {
  shape: number[];
  /** Initial contents (inputs, and in/out state such as running statistics or optimizer buffers). */
  data?: Host;
  dtype?: DType;
  /** An activation: kept in the backend's preferred layout for its dtype (blocked on the CPU for float32,
   *  nhwc on both for bfloat16). */
  act?: boolean;
  /** An explicit layout on both devices (e.g. float32 nhwc), instead of the preferred one. */
  layout?: Layout;
}

/** VGG_CIFAR_GPU_TESTS_ON_CPU=1 runs these tests cpu against cpu: it checks the tests themselves (argument
 *  order, shapes, the napi layer's rules) on a machine without a GPU. */
const onCpu = process.env.VGG_CIFAR_GPU_TESTS_ON_CPU === '1';
export const gpu: Device = onCpu ? 'cpu' : 'cuda';
const reason = onCpu ? null : cudaUnavailableReason();
const required = process.env.VGG_CIFAR_GPU_TESTS === '1';
if (reason) console.log(`CUDA tests ${required ? 'cannot run' : 'skipped'}: ${reason}`);
/** The CUDA backend runs on the CUDA emulator (native/emu, `npm run test:emu`): our code on the CPU, with
 *  stand-ins for cuDNN and cuBLAS. Tests of what only NVIDIA's libraries or a GPU can show skip there, and
 *  sizes chosen for a GPU shrink. */
export const emulated = !onCpu && !reason && native.backends().find((b) => b.device === 'cuda')?.details.emulator === 'yes';
if (emulated) {
  console.log('CUDA tests on the CUDA emulator (native/emu): our host code and kernels on the CPU, with loop stand-ins for cuDNN ' +
    '(its graph API too) and cuBLAS, not a GPU; what needs GPU-sized work or a GPU\'s speed skips');
}

/** describe() for GPU tests: skipped (saying why) where CUDA is unusable, unless `npm run test:gpu`
 *  asked for them, where a missing GPU is a failure. */
export function describeGpu(name: string, body: () => void): void {
  if (reason && required) {
    describe(name, () => it('needs a usable CUDA backend', () => expect(reason).toBeNull()));
    return;
  }
  describe.skipIf(reason !== null)(name, body);
}

/** Runs `step` once eagerly (as lib/step-graphs.ts does: plans, algorithms and buffers exist before the
 *  capture), then captures it as a CUDA graph; a failed capture is aborted, leaving the stream usable. */
export function captureAfterWarmup(step: () => void): NativeGraph {
  step();
  native.graphCaptureBegin('cuda');
  try {
    step();
    return native.graphCaptureEnd('cuda');
  } catch (e) {
    native.graphCaptureAbort('cuda');
    throw e;
  }
}

/** A tensor on `device` made from `s` (bf16 data through native.cast, so both devices round it alike). */
export function make(device: Device, s: Spec): NativeTensor {
  const dtype = s.dtype ?? 'float32';
  const layout = s.layout ?? (s.act && s.shape.length === 4 ? native.preferredLayout(device, s.shape, dtype) : 'plain');
  if (s.data && dtype === 'bfloat16') {
    // bf16 inputs come from float32 data through native.cast, so both devices round them alike.
    const f = native.fromArray(device, s.shape, s.data as Float32Array, 'float32', layout);
    const t = native.empty(device, s.shape, dtype, layout);
    native.cast(f, t);
    f.dispose();
    return t;
  }
  if (s.data) return native.fromArray(device, s.shape, s.data, dtype, layout);
  const t = native.empty(device, s.shape, dtype, layout);
  // Outputs an op forgets to write show up (bf16 cannot be filled with NaN: a huge finite value).
  native.fill(t, dtype === 'float32' ? Number.NaN : dtype === 'bfloat16' ? 1e30 : 0);
  return t;
}

/** Runs `op` on `device` over tensors made from `specs`; returns every tensor's contents afterwards. */
export function runOn(device: Device, specs: Record<string, Spec | null>, op: (t: Record<string, NativeTensor | null>) => void): Record<string, Host> {
  const t: Record<string, NativeTensor | null> = {};
  for (const [k, s] of Object.entries(specs)) t[k] = s ? make(device, s) : null;
  op(t);
  const out: Record<string, Host> = {};
  for (const [k, x] of Object.entries(t)) {
    if (!x) continue;
    out[k] = x.dtype === 'bfloat16' ? toFloat32(x) : native.toArray(x) as Host;
    x.dispose();
  }
  return out;
}

/** Runs on both devices; checks every tensor named in `compare` (relative error <= rtol, or rtol[name]; exact for
 *  integers). bfloat16 outputs are compared as their float32 values. */
export function parity(specs: Record<string, Spec | null>, compare: string[], op: (t: Record<string, NativeTensor | null>) => void,
  rtol: number | Record<string, number> = 1e-4): { cpu: Record<string, Host>; cuda: Record<string, Host> } {
  const cpu = runOn('cpu', specs, op);
  const other = runOn(gpu, specs, op);
  for (const k of compare) {
    const a = other[k];
    const e = cpu[k];
    expect(a.length, k).toBe(e.length);
    if (a instanceof Float32Array) expectRel(a, e as Float32Array, typeof rtol === 'number' ? rtol : rtol[k], k);
    else expect(Array.from(a), k).toEqual(Array.from(e));
  }
  return { cpu, cuda: other };
}

export function expectRel(actual: Float32Array, expected: Float32Array, rtol: number, what: string): void {
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(actual[i]) !== Number.isNaN(expected[i])) throw new Error(`${what}: NaN mismatch at ${i}: cuda ${actual[i]}, cpu ${expected[i]}`);
    if (Number.isNaN(expected[i])) continue;
    num = Math.max(num, Math.abs(actual[i] - expected[i]));
    den = Math.max(den, Math.abs(expected[i]));
  }
  const err = den === 0 ? num : num / den;
  if (!(err <= rtol)) throw new Error(`${what}: cuda vs cpu relative error ${err.toExponential(3)} > ${rtol}`);
}

/** Values whose bf16 roundings are distinct within each [H, W] plane (distinct bit patterns, random order
 *  and signs): max pooling then has no ties, so both backends route each gradient to the same element. */
export function distinctPerPlane(shape: number[], seed: number): Float32Array {
  const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const hw = shape[2] * shape[3];
  const keys = rand(numel(shape), seed);
  const signs = rand(numel(shape), seed + 1);
  const bits = new Uint16Array(numel(shape));
  for (let p = 0; p < bits.length; p += hw) {
    const order = Array.from({ length: hw }, (_, i) => i).sort((a, b) => keys[p + a] - keys[p + b]);
    order.forEach((i, rank) => { bits[p + i] = (signs[p + i] < 0 ? 0x8000 : 0) | (0x3c00 + rank); });  // |v| in [2^-7, 2^-5)
  }
  return new Float32Array(Uint32Array.from(bits, (b) => b << 16).buffer);
}

/** Convolution shapes both the fp32 and the bf16 GPU tests run: a 3-channel input, stride 2, 1x1, a VGG layer. */
export const convCases = [
  { x: [2, 3, 9, 7], w: [5, 3, 3, 3], p: { strideH: 1, strideW: 1, padH: 1, padW: 1 } },
  { x: [3, 8, 8, 8], w: [16, 8, 3, 3], p: { strideH: 2, strideW: 2, padH: 1, padW: 1 } },
  { x: [2, 4, 5, 5], w: [6, 4, 1, 1], p: { strideH: 1, strideW: 1, padH: 0, padW: 0 } },
  { x: [4, 64, 16, 16], w: [64, 64, 3, 3], p: { strideH: 1, strideW: 1, padH: 1, padW: 1 } },
];
export const outShape = (x: number[], w: number[], p: { strideH: number; strideW: number; padH: number; padW: number }) => [
  x[0], w[0], Math.floor((x[2] + 2 * p.padH - w[2]) / p.strideH) + 1, Math.floor((x[3] + 2 * p.padW - w[3]) / p.strideW) + 1];
/** Max-pooling shapes both the fp32 and the bf16 GPU tests run: VGG's 2x2/2, an overlapping padded 3x3/2 on
 *  odd maps, a VGG-sized layer. */
export const poolCases = [
  { x: [2, 3, 8, 8], p: { kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 } },
  { x: [2, 5, 7, 9], p: { kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 } },
  { x: [8, 64, 16, 16], p: { kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 } },
];

// Small conveniences over the native tensors. Tensors are owned by a backend; call dispose() when done
// (a finalizer frees forgotten ones, but GPU memory should not wait for the garbage collector).
import { native, type Device, type DType, type Layout, type NativeTensor } from './backend.js';

export type Tensor = NativeTensor;

export function empty(device: Device, shape: readonly number[], dtype: DType = 'float32', layout: Layout = 'plain'): Tensor {
  return native.empty(device, shape, dtype, layout);
}

export function zeros(device: Device, shape: readonly number[], dtype: DType = 'float32', layout: Layout = 'plain'): Tensor {
  const t = native.empty(device, shape, dtype, layout);
  native.fill(t, 0);
  return t;
}

export function fromFloat32(device: Device, shape: readonly number[], data: Float32Array | readonly number[], layout: Layout = 'plain'): Tensor {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  return native.fromArray(device, shape, arr, 'float32', layout);
}

export function fromInt32(device: Device, shape: readonly number[], data: Int32Array | readonly number[]): Tensor {
  const arr = data instanceof Int32Array ? data : Int32Array.from(data);
  return native.fromArray(device, shape, arr, 'int32');
}

export function fromUint8(device: Device, shape: readonly number[], data: Uint8Array): Tensor {
  return native.fromArray(device, shape, data, 'uint8');
}

/** The values of a float32 or bfloat16 tensor as a Float32Array (plain order; bf16 widens exactly). */
export function toFloat32(t: Tensor): Float32Array {
  if (t.dtype === 'bfloat16') {
    const bits = native.toArray(t) as Uint16Array;
    const out = new Uint32Array(bits.length);
    for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
    return new Float32Array(out.buffer);
  }
  if (t.dtype !== 'float32') throw new TypeError(`toFloat32: tensor is ${t.dtype}, not float32 or bfloat16`);
  return native.toArray(t) as Float32Array;
}

export function toInt32(t: Tensor): Int32Array {
  if (t.dtype !== 'int32') throw new TypeError(`toInt32: tensor is ${t.dtype}, not int32`);
  return native.toArray(t) as Int32Array;
}

/** Reads a one-element tensor (a loss or a counter): the only host sync a training step needs. */
export function scalar(t: Tensor): number {
  if (t.size !== 1) throw new RangeError(`scalar: tensor has ${t.size} elements, expected 1`);
  return native.toArray(t)[0];
}

/** A seed tensor (int32 [1]) for the random ops that read their seed from device memory (dropoutForward,
 *  loadBatch): a captured CUDA graph replays the op with whatever seed was written there since. */
export function seedTensor(device: Device): Tensor {
  return zeros(device, [1], 'int32');
}

const seedBits = new Int32Array(1);
/** Writes a uint32 seed's bits into a seed tensor (a host-to-device write, no allocation). */
export function writeSeed(t: Tensor, seed: number): void {
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw new RangeError(`writeSeed: seed must be a uint32, got ${seed}`);
  seedBits[0] = seed | 0;
  native.write(t, seedBits);
}

export function disposeAll(ts: Iterable<Tensor | null | undefined>): void {
  for (const t of ts) t?.dispose();
}

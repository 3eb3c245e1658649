// State dicts with PyTorch's names, order, shapes and dtypes (float32 parameters and running stats,
// int64 scalar num_batches_tracked), copied to and from the host.
import { native } from '../backend.js';
import type { Tensor } from '../tensor.js';
import type { Module } from './module.js';
import { BatchNorm2d } from './batchnorm.js';
import type { HostTensor } from './safetensors.js';

export type StateDict = Map<string, HostTensor>;

interface Slot {
  name: string;
  shape: number[];
  kind: 'float' | 'count';
  tensor?: Tensor;
  bn?: BatchNorm2d;
}

/** Every entry of the state dict in PyTorch's order: per module its parameters, then its buffers, then
 *  its children's. */
function slots(model: Module): Slot[] {
  const out: Slot[] = [];
  for (const [name, m] of model.namedModules()) {
    const prefix = name ? `${name}.` : '';
    for (const p of m.localParams()) out.push({ name: prefix + p.name, shape: [...p.value.shape], kind: 'float', tensor: p.value });
    for (const b of m.localBuffers()) out.push({ name: prefix + b.name, shape: [...b.value.shape], kind: 'float', tensor: b.value });
    if (m instanceof BatchNorm2d) out.push({ name: prefix + 'num_batches_tracked', shape: [], kind: 'count', bn: m });
  }
  return out;
}

/** The model's state (copied to the host). */
export function stateDict(model: Module): StateDict {
  const sd: StateDict = new Map();
  for (const s of slots(model)) {
    if (s.kind === 'float') sd.set(s.name, { dtype: 'F32', shape: s.shape, data: native.toArray(s.tensor!) as Float32Array });
    else sd.set(s.name, { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(s.bn!.numBatchesTracked)) });
  }
  return sd;
}

export interface LoadResult {
  missing: string[];
  unexpected: string[];
}

export class StateDictError extends Error {
  readonly missing: string[];
  readonly unexpected: string[];
  readonly mismatched: string[];
  constructor(where: string, missing: string[], unexpected: string[], mismatched: string[]) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing keys (${missing.length}): ${missing.join(', ')}`);
    if (unexpected.length) parts.push(`unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`);
    if (mismatched.length) parts.push(`wrong shape or dtype (${mismatched.length}): ${mismatched.join('; ')}`);
    super(`${where}: error(s) loading the state dict:\n  ${parts.join('\n  ')}`);
    this.name = 'StateDictError';
    this.missing = missing;
    this.unexpected = unexpected;
    this.mismatched = mismatched;
  }
}

/** Loads a state dict. Checks every name, shape and dtype first and reports all problems in one
 *  StateDictError; writes nothing unless all checks pass. `strict: false` tolerates missing and
 *  unexpected keys (as PyTorch), never wrong shapes. */
export function loadStateDict(model: Module, dict: StateDict, opts: { strict?: boolean; source?: string } = {}): LoadResult {
  const strict = opts.strict ?? true;
  const all = slots(model);
  const expected = new Set(all.map((s) => s.name));
  const missing = all.filter((s) => !dict.has(s.name)).map((s) => s.name);
  const unexpected = [...dict.keys()].filter((k) => !expected.has(k));
  const mismatched: string[] = [];
  for (const s of all) {
    const t = dict.get(s.name);
    if (!t) continue;
    const sameShape = t.shape.length === s.shape.length && t.shape.every((d, i) => d === s.shape[i]);
    if (!sameShape) mismatched.push(`${s.name}: checkpoint [${t.shape.join(', ')}], model [${s.shape.join(', ')}]`);
    const okType = s.kind === 'float' ? t.dtype === 'F32' : t.dtype === 'I64' || t.dtype === 'I32';
    if (!okType) mismatched.push(`${s.name}: dtype ${t.dtype}, expected ${s.kind === 'float' ? 'F32' : 'I64'}`);
  }
  if (mismatched.length || (strict && (missing.length || unexpected.length))) {
    throw new StateDictError(opts.source ?? 'loadStateDict', strict ? missing : [], strict ? unexpected : [], mismatched);
  }
  for (const s of all) {
    const t = dict.get(s.name);
    if (!t) continue;
    if (s.kind === 'float') native.write(s.tensor!, t.data as Float32Array);
    else s.bn!.numBatchesTracked = Number(t.data[0]);
  }
  return { missing, unexpected };
}

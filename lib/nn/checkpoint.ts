// Checkpoints: one safetensors file holding the model's state dict under PyTorch's names
// (net.0.weight, …), the optimizer's state tensors under `optimizer.state.<param>.<key>`, and in the
// metadata the model config, epoch, step, RNG state, optimizer options and step counts. Enough to
// resume exactly. In Python, `model.load_state_dict(load_file(path), strict=False)` (or filtering out
// the `optimizer.` keys) loads the weights; saveCheckpoint(path, { model }) alone writes a file that
// loads strictly. A run that averages its weights (WeightAverage) saves the averaged weights as the model,
// since they are what it evaluated and reports, and the weights it trains under `training.<name>`, which
// only a resumed run reads. Writes are atomic: temp file in the same folder, fsync, rename, fsync the folder.
import { closeSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { REASONS, tempName, writeFileAtomic } from '../atomic-file.js';
import type { Module } from './module.js';
import { loadStateDict, stateDict, type StateDict } from './state.js';
import { readSafetensors, readSafetensorsMetadata, SafetensorsError, writeSafetensorsFd, type HostTensor } from './safetensors.js';
import type { OptimizerStateDict, StatefulOptimizer } from './optimizer-state.js';

export const OPTIMIZER_PREFIX = 'optimizer.state.';
export const TRAINING_PREFIX = 'training.';
const META_PREFIX = 'vgg_cifar.';

export { writeFileAtomic };

export interface CheckpointInput {
  model: Module & { config?: unknown };
  optimizer?: StatefulOptimizer | null;
  /** The trained weights when `model` holds others (an average of them): saved under `training.<name>`. */
  training?: StateDict | null;
  epoch?: number;
  step?: number;
  /** Any JSON (e.g. the data shuffler's and augmentation RNG states). */
  rng?: unknown;
  /** Any other JSON the caller wants back (run config, metrics). */
  extra?: Record<string, unknown>;
  /** The training run the checkpoint belongs to (a run folder holds the files of one run only). */
  runId?: string;
}

export interface Checkpoint {
  path: string;
  /** The model's state dict (PyTorch names). */
  model: StateDict;
  optimizer: OptimizerStateDict | null;
  /** The trained weights of a run that saved its averaged weights as the model (`training.<name>`); else null. */
  training: StateDict | null;
  config: unknown;
  epoch: number | null;
  step: number | null;
  rng: unknown;
  extra: Record<string, unknown>;
  /** The training run that wrote it; null for files from elsewhere (PyTorch) or from before run ids. */
  runId: string | null;
  /** The raw safetensors metadata. */
  metadata: Record<string, string>;
}

/** Creates `dir` when missing and proves a file can be created in it, so that a read-only or missing
 *  output folder fails before hours of training rather than at the first checkpoint. */
export function ensureWritableFolder(dir: string): void {
  const probe = join(dir, tempName('vgg-cifar-probe', process.pid, randomBytes(4).toString('hex')));
  try {
    mkdirSync(dir, { recursive: true });
    closeSync(openSync(probe, 'wx', 0o644));
    unlinkSync(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`cannot write checkpoints to ${dir}: ${REASONS[code] ?? (e as Error).message} (${code})`, { cause: e });
  }
}

export function saveCheckpoint(path: string, c: CheckpointInput): void {
  const tensors: Map<string, HostTensor> = stateDict(c.model);
  const metadata: Record<string, string> = { format: 'pt' };
  const meta = (k: string, v: unknown) => {
    if (v !== undefined) metadata[META_PREFIX + k] = JSON.stringify(v);
  };
  meta('config', c.model.config);
  meta('epoch', c.epoch);
  meta('step', c.step);
  meta('rng', c.rng);
  meta('extra', c.extra);
  meta('run_id', c.runId);
  meta('dropout', dropoutState(c.model));
  for (const [k, t] of c.training ?? []) tensors.set(TRAINING_PREFIX + k, t);
  if (c.optimizer) {
    const o = c.optimizer.stateDict();
    for (const [k, t] of o.tensors) tensors.set(OPTIMIZER_PREFIX + k, t);
    meta('optimizer', { kind: o.kind, groups: o.groups, steps: o.steps });
  }
  writeFileAtomic(path, (fd) => writeSafetensorsFd(fd, tensors, metadata));
}

/** `read(path)`, an fs failure (missing file, a folder) said as a checkpoint that cannot be read. */
function readCheckpointFile<T>(path: string, read: (path: string) => T): T {
  try {
    return read(path);
  } catch (e) {
    if (e instanceof SafetensorsError) throw e;
    throw new Error(`${path}: cannot read the checkpoint: ${(e as Error).message}`);
  }
}

/** Typed access to our keys of a checkpoint's metadata; malformed values are errors naming the file. */
function metadataReader(path: string, md: Record<string, string>) {
  const parse = (k: string): unknown => {
    const s = md[META_PREFIX + k];
    if (s === undefined) return undefined;
    try {
      return JSON.parse(s);
    } catch {
      throw new SafetensorsError(path, `metadata ${META_PREFIX + k} is not valid JSON`);
    }
  };
  const typed = <T>(k: string, type: 'number' | 'string'): T | null => {
    const v = parse(k);
    if (v === undefined) return null;
    if (typeof v !== type) throw new SafetensorsError(path, `metadata ${META_PREFIX + k} must be a ${type}`);
    return v as T;
  };
  return { parse, num: (k: string) => typed<number>(k, 'number'), str: (k: string) => typed<string>(k, 'string') };
}

/** Reads and validates a checkpoint (or any safetensors state dict, e.g. one saved from PyTorch). */
export function loadCheckpoint(path: string): Checkpoint {
  const file = readCheckpointFile(path, readSafetensors);
  const md = file.metadata;
  const { parse, num, str } = metadataReader(path, md);
  const model: StateDict = new Map();
  const optTensors = new Map<string, HostTensor>();
  const training: StateDict = new Map();
  for (const [k, t] of file.tensors) {
    if (k.startsWith(OPTIMIZER_PREFIX)) optTensors.set(k.slice(OPTIMIZER_PREFIX.length), t);
    else if (k.startsWith(TRAINING_PREFIX)) training.set(k.slice(TRAINING_PREFIX.length), t);
    else model.set(k, t);
  }
  const o = parse('optimizer') as Omit<OptimizerStateDict, 'tensors'> | undefined;
  return {
    path,
    model,
    optimizer: o ? { ...o, tensors: optTensors } : null,
    training: training.size ? training : null,
    config: parse('config') ?? null,
    epoch: num('epoch'),
    step: num('step'),
    rng: parse('rng') ?? null,
    extra: (parse('extra') as Record<string, unknown>) ?? {},
    runId: str('run_id'),
    metadata: md,
  };
}

/** A checkpoint's run, epoch, step and extra JSON from its header alone (the tensors are not read). */
export function checkpointHeader(path: string): Pick<Checkpoint, 'runId' | 'epoch' | 'step' | 'extra'> {
  const { parse, num, str } = metadataReader(path, readCheckpointFile(path, readSafetensorsMetadata));
  return { runId: str('run_id'), epoch: num('epoch'), step: num('step'), extra: (parse('extra') as Record<string, unknown>) ?? {} };
}

/** Loads a checkpoint's weights (strictly by default), and optimizer state when given one. */
export function restoreCheckpoint(ck: Checkpoint, model: Module, optimizer?: StatefulOptimizer | null, opts: { strict?: boolean } = {}): void {
  loadStateDict(model, ck.model, { strict: opts.strict, source: ck.path });
  if (optimizer) {
    if (!ck.optimizer) throw new Error(`${ck.path}: the checkpoint holds no optimizer state`);
    optimizer.loadStateDict(ck.optimizer, ck.path);
  }
  const d = ck.metadata[META_PREFIX + 'dropout'];
  if (d) setDropoutState(model, JSON.parse(d) as Record<string, [number, number]>);
}

/** Dropout seeds and counters by module name (the model's own RNG position). */
function dropoutState(model: Module): Record<string, [number, number]> | undefined {
  const out: Record<string, [number, number]> = {};
  for (const [name, m] of model.namedModules()) {
    const d = m as unknown as { seed?: number; counter?: number; p?: number };
    if (m.typeName === 'Dropout' && typeof d.seed === 'number' && typeof d.counter === 'number') out[name] = [d.seed, d.counter];
  }
  return Object.keys(out).length ? out : undefined;
}

function setDropoutState(model: Module, st: Record<string, [number, number]>): void {
  for (const [name, m] of model.namedModules()) {
    const v = st[name];
    if (v && m.typeName === 'Dropout') Object.assign(m, { seed: v[0], counter: v[1] });
  }
}

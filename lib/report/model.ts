// Loads a checkpoint for looking at (eval mode, no optimizer state) and runs images through it with the
// training's own preprocessing: the pixels go to the device as uint8 and native.loadBatch scales and
// normalizes them exactly as a training batch is.
import { resolveDevice, type BackendChoice, type Device } from '../backend.js';
import { loadCheckpoint, restoreCheckpoint } from '../nn/checkpoint.js';
import { modelFromConfig, vgg, type Vgg, type VggConfig } from '../models/vgg.js';
import { splitToDevice } from '../data/device.js';
import { BatchLoader } from '../data/batches.js';
import type { Tensor } from '../tensor.js';
import type { StateDict } from '../nn/state.js';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

export interface LoadedModel {
  model: Vgg;
  device: Device;
  /** Whether the model was trained on normalized inputs. */
  normalize: boolean;
  classes: string[];
  checkpoint: string;
  epoch: number | null;
  /** The test-split accuracy of these weights, when the checkpoint records it (training saves it). */
  evaluation: CheckpointEvaluation | null;
  /** The checkpoint's model tensors as loaded (host copies; only with `keepWeights`). */
  weights: StateDict | null;
  dispose(): void;
}

export interface CheckpointEvaluation {
  split: string;
  epoch: number;
  accuracy: number;
  count: number;
}

export interface LoadModelOptions {
  backend?: BackendChoice;
  /** For files without our metadata (a PyTorch state dict): the study report's VGG16 unless told. */
  config?: Partial<VggConfig>;
  normalize?: boolean;
  /** Keep the host copies of the weights (`weights`) instead of reading them back from the device. */
  keepWeights?: boolean;
}

export function loadModel(file: string, o: LoadModelOptions = {}): LoadedModel {
  const ck = loadCheckpoint(file);
  let model: Vgg;
  try {
    model = ck.config ? modelFromConfig(ck.config as VggConfig) : vgg({ depth: 16, ...o.config });
  } catch (e) {
    throw new Error(`${file}: the checkpoint's model configuration cannot be built: ${(e as Error).message}`, { cause: e });
  }
  const weights: StateDict = new Map([...ck.model].filter(([k]) => !k.startsWith('optimizer.')));
  try {
    restoreCheckpoint({ ...ck, model: weights }, model);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const trained = (ck.extra.options ?? {}) as { normalize?: unknown };
  const saved = ck.extra.classes;
  const classes = Array.isArray(saved) && saved.length === model.config.numClasses ? saved.map(String)
    : model.config.numClasses === 10 ? CIFAR10_CLASSES : Array.from({ length: model.config.numClasses }, (_, i) => `class ${i}`);
  const device = resolveDevice(o.backend ?? 'auto');
  model.to(device);
  model.eval();
  return {
    model, device, classes, checkpoint: file, epoch: ck.epoch, evaluation: readEvaluation(ck.extra.evaluation),
    weights: o.keepWeights ? weights : null,
    normalize: o.normalize ?? (typeof trained.normalize === 'boolean' ? trained.normalize : false),
    dispose: () => model.dispose(),
  };
}

function readEvaluation(v: unknown): CheckpointEvaluation | null {
  const e = v as Partial<CheckpointEvaluation> | undefined;
  if (!e || typeof e.accuracy !== 'number' || !(e.accuracy >= 0 && e.accuracy <= 1)) return null;
  return { split: String(e.split ?? 'test'), epoch: Number(e.epoch), accuracy: e.accuracy, count: Number(e.count) };
}

/** Runs `count` planar uint8 images [count,3,32,32] through `fn` one batch at a time (batch size
 *  `batch`), each batch preprocessed like training (without augmentation). */
export function withInputs<T>(m: LoadedModel, pixels: Uint8Array, count: number, batch: number,
  fn: (x: Tensor, first: number, size: number) => T): T[] {
  const split = splitToDevice({ count, images: pixels, labels: new Uint8Array(count) }, m.device);
  const loader = new BatchLoader(split, { batchSize: Math.min(batch, count), normalize: m.normalize });
  const out: T[] = [];
  try {
    for (const b of loader.epoch(0)) {
      m.model.build(m.device, [b.size, 3, 32, 32]);
      out.push(fn(b.images, b.step * loader.batchSize, b.size));
    }
  } finally {
    loader.dispose();
    split.dispose();
  }
  return out;
}

/** Softmax of each row of logits, in float64. */
export function softmaxRows(logits: Float32Array, rows: number, cols: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * cols, (r + 1) * cols);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    const p = new Float64Array(cols);
    let sum = 0;
    for (let i = 0; i < cols; i++) sum += p[i] = Math.exp(row[i] - max);
    for (let i = 0; i < cols; i++) p[i] /= sum;
    out.push(p);
  }
  return out;
}

// Batches over a device-resident split. The order of an epoch is a seeded Fisher-Yates permutation and
// each batch's augmentation seed is derived from (seed, epoch, step), so any batch can be rebuilt on its
// own: a run resumed at (epoch, step) sees exactly what an uninterrupted run would have seen. Pixels are
// gathered, scaled, normalized, cropped and flipped by native.loadBatch into preallocated tensors, so on
// a GPU they never return to the host; only the batch's indices (B int32) are uploaded.
import type { BatchParams } from '../../binding.js';
import { native } from '../backend.js';
import { empty, seedTensor, writeSeed, type Tensor } from '../tensor.js';
import type { DeviceSplit } from './device.js';
import { CHANNELS, CIFAR10_MEAN, CIFAR10_STD, HEIGHT, WIDTH } from './layout.js';
import { deriveSeed, permutation } from './rng.js';

export interface BatchLoaderOptions {
  batchSize: number;
  /** Shuffle every epoch (default false: the split's order, as evaluation wants). */
  shuffle?: boolean;
  /** Skip the last batch when it would be smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Seed of the shuffles and augmentations (default 0). */
  seed?: number;
  /** Subtract CIFAR-10's per-channel mean and divide by its std after scaling to [0,1] (default false). */
  normalize?: boolean;
  /** Random crop (pad 4) and horizontal flip: for training only (default false). */
  augment?: boolean;
  /** Padding of the random crop when augmenting (default 4). */
  cropPad?: number;
  padMode?: 'zero' | 'reflect';
  /** With augment: epochs from this one (0-based) on are not augmented (default: every epoch is). */
  plainFromEpoch?: number;
  /** With augment: the side of a Cutout square (DeVries & Taylor 2017) hiding part of every sample (default 0: off). */
  cutout?: number;
}

/** One batch. The tensors are the loader's and are overwritten by the next batch of the same size. */
export interface Batch {
  /** float32 [size, 3, 32, 32], plain layout. */
  images: Tensor;
  /** int32 [size] */
  labels: Tensor;
  size: number;
  epoch: number;
  step: number;
}

/** A batch whose indices and augmentation seed are on the device, ready for launch(). Valid until the next
 *  prepare() of a batch of the same size (which reuses its tensors). */
export interface PreparedBatch {
  size: number;
  epoch: number;
  step: number;
  /** int32 [size]: the records of the batch (the loader's tensor, at a fixed address per batch size). */
  readonly indices: Tensor;
  /** int32 [1]: the augmentation seed's bits, read by loadBatch on the device (fixed address per batch size). */
  readonly seed: Tensor;
  readonly params: BatchParams;
}

interface Slots { images: Tensor; labels: Tensor; indices: Tensor; seed: Tensor; prepared: PreparedBatch | null; }

const TAG_SHUFFLE = 0x53485546;
const TAG_AUGMENT = 0x41554746;

export class BatchLoader {
  readonly batchSize: number;
  readonly count: number;
  private readonly opts: Required<Omit<BatchLoaderOptions, 'batchSize'>>;
  private readonly full: Slots;
  private partial: Slots | null = null;
  private orderEpoch = -1;
  private orderCache: Int32Array | null = null;

  constructor(readonly data: DeviceSplit, options: BatchLoaderOptions) {
    const b = options.batchSize;
    if (!(Number.isInteger(b) && b > 0)) throw new RangeError(`BatchLoader: batchSize must be a positive integer, got ${b}`);
    const shape = data.images.shape;
    if (data.images.dtype !== 'uint8' || shape.length !== 4 || shape[1] !== CHANNELS || shape[2] !== HEIGHT || shape[3] !== WIDTH) {
      throw new TypeError(`BatchLoader: images must be uint8 [N,${CHANNELS},${HEIGHT},${WIDTH}], got ${data.images.dtype} [${shape.join(',')}]`);
    }
    if (data.labels.shape.length !== 1 || data.labels.shape[0] !== shape[0]) {
      throw new TypeError(`BatchLoader: labels must be [${shape[0]}], got [${data.labels.shape.join(',')}]`);
    }
    this.batchSize = b;
    this.count = shape[0];
    this.opts = {
      shuffle: options.shuffle ?? false,
      dropLast: options.dropLast ?? false,
      seed: (options.seed ?? 0) >>> 0,
      normalize: options.normalize ?? false,
      augment: options.augment ?? false,
      cropPad: options.cropPad ?? 4,
      padMode: options.padMode ?? 'zero',
      plainFromEpoch: options.plainFromEpoch ?? Infinity,
      cutout: options.cutout ?? 0,
    };
    const pf = this.opts.plainFromEpoch;
    if (!(pf === Infinity || (Number.isInteger(pf) && pf >= 0))) throw new RangeError(`BatchLoader: plainFromEpoch must be a non-negative integer, got ${pf}`);
    this.full = this.slots(Math.min(b, this.count));
  }

  /** Batches in one epoch (the last one partial unless dropLast). */
  get batchesPerEpoch(): number {
    return this.opts.dropLast ? Math.floor(this.count / this.batchSize) : Math.ceil(this.count / this.batchSize);
  }

  /** Order of the records in `epoch` (0-based): a seeded permutation when shuffling, else 0..N-1. */
  order(epoch: number): Int32Array {
    if (!(Number.isInteger(epoch) && epoch >= 0)) throw new RangeError(`BatchLoader: epoch must be a non-negative integer, got ${epoch}`);
    if (this.orderEpoch !== epoch || !this.orderCache) {
      this.orderCache = this.opts.shuffle ? permutation(this.count, deriveSeed(this.opts.seed, TAG_SHUFFLE, epoch))
        : Int32Array.from({ length: this.count }, (_, i) => i);
      this.orderEpoch = epoch;
    }
    return this.orderCache;
  }

  /** Records of batch `step` of `epoch` (a view into order(epoch)). */
  batchIndices(epoch: number, step: number): Int32Array {
    if (!(Number.isInteger(step) && step >= 0 && step < this.batchesPerEpoch)) {
      throw new RangeError(`BatchLoader: step must be an integer in [0, ${this.batchesPerEpoch}), got ${step}`);
    }
    const start = step * this.batchSize;
    return this.order(epoch).subarray(start, Math.min(start + this.batchSize, this.count));
  }

  /** The transform parameters of batch `step` of `epoch`. */
  params(epoch: number, step: number): BatchParams {
    const o = this.opts;
    const augment = o.augment && epoch < o.plainFromEpoch;
    return {
      scale: 1 / 255,
      mean: o.normalize ? CIFAR10_MEAN : [],
      std: o.normalize ? CIFAR10_STD : [],
      cropPad: augment ? o.cropPad : 0,
      padMode: o.padMode,
      flip: augment,
      cutout: augment ? o.cutout : 0,
      seed: deriveSeed(o.seed, TAG_AUGMENT, epoch, step),
    };
  }

  /** Fills and returns batch `step` of `epoch`: launch(prepare(epoch, step)). */
  load(epoch: number, step: number): Batch {
    return this.launch(this.prepare(epoch, step));
  }

  /** The host half of batch `step` of `epoch`: writes its indices and augmentation seed into the device
   *  tensors of its size (the full batch's or the partial last one's). */
  prepare(epoch: number, step: number): PreparedBatch {
    const idx = this.batchIndices(epoch, step);
    const s = this.slotFor(idx.length);
    const params = this.params(epoch, step);
    native.write(s.indices, idx);
    writeSeed(s.seed, params.seed);
    s.prepared = { size: idx.length, epoch, step, indices: s.indices, seed: s.seed, params };
    return s.prepared;
  }

  /** The device half: gathers and augments the prepared batch (the seed read from the device) and its
   *  labels into the loader's tensors. Device work only, no host state changes. */
  launch(prepared: PreparedBatch): Batch {
    const s = prepared.size === this.full.indices.size ? this.full : this.partial;
    if (!s || prepared.indices !== s.indices) {
      throw new Error(`BatchLoader.launch: batch ${prepared.step} of epoch ${prepared.epoch} was not prepared by this loader (or the loader was disposed since)`);
    }
    if (s.prepared !== prepared) {
      throw new Error(`BatchLoader.launch: batch ${prepared.step} of epoch ${prepared.epoch} is no longer prepared: its tensors now hold ` +
        (s.prepared ? `batch ${s.prepared.step} of epoch ${s.prepared.epoch}` : 'nothing (the loader was disposed)'));
    }
    native.loadBatch(this.data.images, s.indices, s.images, prepared.params, s.seed);
    native.gatherLabels(this.data.labels, s.indices, s.labels);
    return { images: s.images, labels: s.labels, size: prepared.size, epoch: prepared.epoch, step: prepared.step };
  }

  /** The batches of `epoch`, starting at `startStep` (to resume mid-epoch). */
  *epoch(epoch: number, startStep = 0): Generator<Batch> {
    for (let step = startStep; step < this.batchesPerEpoch; step++) yield this.load(epoch, step);
  }

  /** Batches across epochs without end, starting at (epoch, step): a resumed run continues exactly where
   *  the interrupted one stopped. Stop iterating when done. */
  *iterate(start: { epoch?: number; step?: number } = {}): Generator<Batch> {
    if (this.batchesPerEpoch === 0) throw new RangeError(`BatchLoader: no batches (${this.count} records, batchSize ${this.batchSize}, dropLast)`);
    for (let epoch = start.epoch ?? 0, step = start.step ?? 0; ; epoch++, step = 0) yield* this.epoch(epoch, step);
  }

  /** Frees the batch tensors (not the dataset). */
  dispose(): void {
    for (const s of [this.full, this.partial]) {
      s?.images.dispose();
      s?.labels.dispose();
      s?.indices.dispose();
      s?.seed.dispose();
      if (s) s.prepared = null;
    }
    this.partial = null;
  }

  private slotFor(n: number): Slots {
    return n === this.full.indices.size ? this.full : (this.partial ??= this.slots(n));
  }

  private slots(n: number): Slots {
    const d = this.data.device;
    return {
      images: empty(d, [n, CHANNELS, HEIGHT, WIDTH], 'float32'),
      labels: empty(d, [n], 'int32'),
      indices: empty(d, [n], 'int32'),
      seed: seedTensor(d),
      prepared: null,
    };
  }
}

/** Training batches: shuffled every epoch, random crop and flip, optional normalization. */
export function trainBatches(data: DeviceSplit, options: { batchSize: number; seed?: number; normalize?: boolean; augment?: boolean; dropLast?: boolean }): BatchLoader {
  return new BatchLoader(data, { ...options, shuffle: true, augment: options.augment ?? true });
}

/** Evaluation batches (the test split): in order, no augmentation, the last partial batch kept. */
export function evalBatches(data: DeviceSplit, options: { batchSize: number; normalize?: boolean }): BatchLoader {
  return new BatchLoader(data, { batchSize: options.batchSize, normalize: options.normalize, shuffle: false, augment: false, dropLast: false });
}

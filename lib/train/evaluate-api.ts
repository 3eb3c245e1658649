// evaluate(): accuracy, per-class accuracy and confusion matrix of a checkpoint (ours, or a state dict
// saved from PyTorch) or of a model in memory, on the TEST split by default.
import { resolveDevice, type BackendChoice } from '../backend.js';
import { bf16Warning } from '../bf16-speed.js';
import type { Precision } from '../nn/module.js';
import { prepareCifar10 } from '../data/prepare.js';
import { splitToDevice, type DeviceSplit } from '../data/device.js';
import { loadCheckpoint, restoreCheckpoint } from '../nn/checkpoint.js';
import { modelFromConfig, Vgg, type VggConfig } from '../models/vgg.js';
import { evaluateSplit, type EvalResult } from './evaluate.js';
import { mirroredSplit } from '../data/mirror.js';
import type { TtaMode } from './tta.js';
import { modelFromOptions } from './loop.js';
import type { TrainOptions } from './options.js';

export interface EvaluateOptions {
  /** A checkpoint path, or a model already built and loaded. */
  checkpoint: string | Vgg;
  data: string;
  split?: 'test' | 'train';
  batchSize?: number;
  backend?: BackendChoice;
  /** Only for files that carry no configuration (a state dict saved from PyTorch). */
  model?: TrainOptions['model'];
  batchNorm?: boolean;
  classifier?: TrainOptions['classifier'];
  reluOnLogits?: boolean;
  /** Normalization the model was trained with (taken from the checkpoint when it says). */
  normalize?: boolean;
  /** Evaluate on the first `limit` images of the split (0 = all). */
  limit?: number;
  download?: boolean;
  /** 'bf16': run the network in bf16 mixed precision (faster where the device has bf16 kernels); a
   *  model passed in keeps its own precision unless this is given. */
  precision?: Precision;
  /** Test-time augmentation: 'flip' predicts from the mean softmax of each image and its mirror
   *  (default 'none'); the result's `tta` says which was used. */
  tta?: TtaMode;
  /** Told when the run works but not as asked for best (bf16 measured slower than fp32 on this CPU). */
  onWarning?: (message: string) => void;
}

export async function evaluate(o: EvaluateOptions): Promise<EvalResult> {
  const split = o.split ?? 'test';
  if (split !== 'test' && split !== 'train') throw new RangeError(`evaluate: split must be 'test' or 'train', got '${String(split)}'`);
  const tta = o.tta ?? 'none';
  if (tta !== 'none' && tta !== 'flip') throw new RangeError(`evaluate: tta must be 'none' or 'flip', got '${String(tta)}'`);
  const batchSize = o.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`evaluate: batchSize must be a positive integer, got ${batchSize}`);
  const limit = o.limit ?? 0;
  const data = await prepareCifar10(o.data, {
    download: o.download ?? false,
    splits: [split],
    ...(limit > 0 ? (split === 'test' ? { testSubset: { first: limit } } : { trainSubset: { first: limit } }) : {}),
  });
  const host = split === 'test' ? data.test! : data.train!;
  let model: Vgg;
  let normalize = o.normalize ?? false;
  let owned = false;
  let averaged = false;
  if (typeof o.checkpoint === 'string') {
    const ck = loadCheckpoint(o.checkpoint);
    averaged = ck.training !== null;
    const trained = ck.extra.options as Partial<TrainOptions> | undefined;
    if (ck.config) model = modelFromConfig(ck.config as VggConfig);
    else {
      model = modelFromOptions({ model: o.model ?? 'vgg16', batchNorm: o.batchNorm ?? false, classifier: o.classifier ?? 'report',
        reluOnLogits: o.reluOnLogits ?? false }, data.classes.length);
    }
    if (o.normalize === undefined && typeof trained?.normalize === 'boolean') normalize = trained.normalize;
    restoreCheckpoint(ck, model);  // loadCheckpoint already set the optimizer's tensors apart
    owned = true;
  } else model = o.checkpoint;
  const device = resolveDevice(o.backend ?? 'auto');
  const before = model.precision;
  if (o.precision !== undefined) {
    const warning = o.precision === 'bf16' ? bf16Warning(device) : null;
    if (warning) o.onWarning?.(warning);
    model.setPrecision(o.precision);
  }
  const onDevice = splitToDevice(host, device);
  let mirrored: DeviceSplit | undefined;
  try {
    if (tta === 'flip') mirrored = splitToDevice(mirroredSplit(host), device);
    model.build(device, [Math.min(batchSize, host.count), 3, 32, 32]);
    const r = evaluateSplit(model, onDevice, { batchSize, normalize, classes: data.classes, split, labels: host.labels, tta, mirrored });
    return typeof o.checkpoint === 'string' ? { ...r, averaged } : r;
  } finally {
    onDevice.dispose();
    mirrored?.dispose();
    if (owned) model.dispose();
    else model.setPrecision(before);
  }
}

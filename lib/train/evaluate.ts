// Accuracy, per-class accuracy and the confusion matrix of a model on a split (the TEST split when
// called by the training loop and `vgg-cifar eval`: the study report measured its training data).
// With flip test-time augmentation the prediction is the mean of the softmax probabilities of the image
// and of its mirror (see tta.ts).
import { native } from '../backend.js';
import { empty, type Tensor } from '../tensor.js';
import type { Module } from '../nn/module.js';
import { SoftmaxCrossEntropyLoss } from '../nn/loss.js';
import { BatchLoader } from '../data/batches.js';
import type { DeviceSplit } from '../data/device.js';
import { flipTtaPredictions, type TtaMode } from './tta.js';
import { StepGraphs, type GraphSetting } from '../step-graphs.js';

export interface EvalResult {
  split: 'test' | 'train';
  count: number;
  /** 0-1 */
  accuracy: number;
  /** Mean cross-entropy (no label smoothing). */
  loss: number;
  /** Accuracy of each class (0-1), by class index. */
  perClass: number[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  classes: string[];
  /** Predicted class of every record, in split order. */
  predictions: Int32Array;
  /** Test-time augmentation of these figures: 'none', or 'flip' (mean softmax of the image and its mirror). */
  tta: TtaMode;
  /** Set by evaluate() for a checkpoint: true when its weights are a run's moving average of its weights
   *  (a run with emaDecay saves the average as the model, the trained weights beside it). */
  averaged?: boolean;
}

export interface EvalOptions {
  batchSize: number;
  normalize: boolean;
  classes: string[];
  split: 'test' | 'train';
  /** Host copy of the split's labels (for the confusion matrix). */
  labels: Uint8Array;
  /** 'flip': mean of the softmax probabilities of each image and its mirror (default 'none'). */
  tta?: TtaMode;
  /** The split mirrored left-right on the same device (mirroredSplit + splitToDevice), for tta 'flip';
   *  made here (a device-to-host copy of the pixels) when not given. Callers that evaluate often pass it. */
  mirrored?: DeviceSplit;
  /** CUDA graphs for the evaluation's batches on the cuda backend, with or without TTA (default 'auto'). */
  graphs?: GraphSetting;
  /** Told once why a graph capture failed (the batches then run eagerly). */
  onNotice?: (message: string) => void;
}

export function evaluateSplit(model: Module, data: DeviceSplit, o: EvalOptions): EvalResult {
  const n = data.images.shape[0];
  const tta = o.tta ?? 'none';
  if (tta !== 'none' && tta !== 'flip') throw new RangeError(`evaluateSplit: tta must be 'none' or 'flip', got '${String(tta)}'`);
  if (o.labels.length !== n) throw new RangeError(`evaluateSplit: ${o.labels.length} labels for ${n} images`);
  const wasTraining = model.training;
  model.eval();
  try {
    const r = tta === 'flip' ? flipTtaPredictions(model, data, o) : plainPredictions(model, data, o);
    return summarize(r, o, n, tta);
  } finally {
    model.train(wasTraining);
  }
}

/** One forward per batch: the loss from the native cross-entropy, the class from argmax. */
function plainPredictions(model: Module, data: DeviceSplit, o: EvalOptions): { predictions: Int32Array; loss: number } {
  const n = data.images.shape[0];
  const loader = new BatchLoader(data, { batchSize: Math.min(o.batchSize, n), shuffle: false, normalize: o.normalize });
  const loss = new SoftmaxCrossEntropyLoss();
  const predictions = new Int32Array(n);
  const preds = new Map<number, Tensor>();
  // One graph per batch size for this evaluation: the loader's and the loss's tensors are its own.
  const graphs = new StepGraphs({ device: data.device, graphs: o.graphs, onNotice: o.onNotice });
  let lossSum = 0;
  try {
    for (let step = 0, offset = 0; step < loader.batchesPerEpoch; step++) {
      const pb = loader.prepare(0, step);
      loss.build(data.device, model.build(data.device, [pb.size, 3, 32, 32]));
      if (!preds.has(pb.size)) preds.set(pb.size, empty(data.device, [pb.size], 'int32'));
      const argmax = preds.get(pb.size)!;
      loss.prepareStep(pb.size);
      graphs.run(`evaluation batch ${pb.size}`, () => {
        const b = loader.launch(pb);
        const logits = model.forward(b.images);
        loss.forward(logits, b.labels, { grad: false });
        native.argmax(logits, argmax);
      }, () => loss.rearmStep());
      predictions.set(native.toArray(argmax) as Int32Array, offset);
      // weighted by the batch's size: a mean of batch means would overweight the last, partial batch
      lossSum += loss.read().loss * pb.size;
      offset += pb.size;
    }
    return { predictions, loss: lossSum / n };
  } finally {
    graphs.dispose();
    loader.dispose();
    loss.dispose();
    for (const p of preds.values()) p.dispose();
  }
}

function summarize(r: { predictions: Int32Array; loss: number }, o: EvalOptions, n: number, tta: TtaMode): EvalResult {
  const k = o.classes.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < n; i++) {
    confusion[o.labels[i]][r.predictions[i]]++;
    if (o.labels[i] === r.predictions[i]) correct++;
  }
  const perClass = confusion.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total ? row[c] / total : NaN;
  });
  return { split: o.split, count: n, accuracy: correct / n, loss: r.loss, perClass, confusion, classes: o.classes, predictions: r.predictions, tta };
}

/** A fixed-width confusion matrix with class names, for terminals. */
export function formatConfusion(r: EvalResult): string {
  const names = r.classes.map((c) => c.slice(0, 10));
  const w = Math.max(6, ...r.confusion.flat().map((v) => String(v).length + 1));
  const lines = [`${'true \\ pred'.padEnd(12)}${names.map((c) => c.slice(0, w - 1).padStart(w)).join('')}   accuracy`];
  r.confusion.forEach((row, i) => {
    lines.push(`${names[i].padEnd(12)}${row.map((v) => String(v).padStart(w)).join('')}   ${(100 * r.perClass[i]).toFixed(1)}%`);
  });
  return lines.join('\n');
}

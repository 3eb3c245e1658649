// What an export reads: the checkpoint, loaded and checked against its model exactly as eval and
// predict load it (report/model.ts), turned into the inference graph and the facts every format
// records (classes, input, normalization, accuracy, versions).
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { packageRoot } from '../backend.js';
import type { ClassifierKind, VggConfig, VggDepth } from '../models/vgg.js';
import { CIFAR10_MEAN, CIFAR10_STD } from '../data/layout.js';
import { loadModel, type CheckpointEvaluation } from '../report/model.js';
import { inferenceGraph, type InferenceGraph } from './graph.js';
import { GENERATOR_META } from './output.js';

export interface ExportSourceOptions {
  checkpoint: string;
  /** For weights-only files (a state dict saved from PyTorch): the architecture, as `eval` takes it. */
  model?: 'vgg11' | 'vgg13' | 'vgg16' | 'vgg19';
  batchNorm?: boolean;
  classifier?: ClassifierKind;
  /** Whether the network was trained on normalized inputs (the checkpoint says, when it is ours). */
  normalize?: boolean;
  /** BatchNorm folded into the convolution before it (inference form). */
  foldBn?: boolean;
  /** The CIFAR-10 mean/std as the first ops, so that the exported model takes pixels in [0, 1]. */
  includeNormalization?: boolean;
}

export interface ExportInfo {
  /** VGG16, VGG16-BN, ... */
  name: string;
  /** One line for people: architecture, classifier, input. */
  description: string;
  config: VggConfig;
  classes: string[];
  /** [height, width] */
  inputSize: [number, number];
  /** The per-channel mean/std the network was trained with (null: it was trained on pixels / 255). */
  normalization: { mean: number[]; std: number[] } | null;
  /** The exported model applies `normalization` itself: its input is pixels / 255 either way. */
  normalizationInModel: boolean;
  foldedBn: boolean;
  epoch: number | null;
  evaluation: CheckpointEvaluation | null;
  /** The checkpoint's file name. */
  source: string;
  /** 'vgg-cifar 0.1.0' */
  generator: string;
  version: string;
}

export interface ExportSource {
  graph: InferenceGraph;
  info: ExportInfo;
}

const CLASSIFIERS: Record<ClassifierKind, (c: VggConfig) => string> = {
  report: (c) => `report classifier (F-${c.hidden}-${c.hidden}-${c.numClasses})`,
  standard: (c) => `standard classifier (F-${c.hidden}-${c.hidden}-${c.numClasses}, dropout ${c.dropout})`,
  linear: (c) => `linear classifier (F-${c.numClasses})`,
};

export function packageVersion(): string {
  return String(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version);
}

/** Loads and checks the checkpoint and builds what the writers need; the native model is freed here. */
export function loadExportSource(o: ExportSourceOptions): ExportSource {
  const depth = o.model === undefined ? undefined : Number(/^vgg(11|13|16|19)$/.exec(o.model)?.[1]) as VggDepth;
  if (Number.isNaN(depth)) throw new RangeError(`export: model must be vgg11, vgg13, vgg16 or vgg19, got '${String(o.model)}'`);
  const m = loadModel(o.checkpoint, {
    backend: 'cpu', normalize: o.normalize, keepWeights: true,
    config: { depth: depth ?? 16, batchNorm: o.batchNorm ?? false, classifier: o.classifier ?? 'report' },
  });
  try {
    const c = m.model.config;
    // A checkpoint that describes its own model wins over flags meant for weights-only files, but the
    // two must agree: a user who says vgg11 about a VGG16 file is told, not silently overruled.
    const said: string[] = [];
    if (depth !== undefined && depth !== c.depth) said.push(`--model vgg${depth}`);
    if (o.batchNorm !== undefined && o.batchNorm !== c.batchNorm) said.push(o.batchNorm ? '--bn' : 'no BatchNorm');
    if (o.classifier !== undefined && o.classifier !== c.classifier) said.push(`--classifier ${o.classifier}`);
    if (said.length) {
      throw new Error(`${o.checkpoint}: ${said.join(', ')} does not match the checkpoint, which holds a VGG${c.depth}` +
        `${c.batchNorm ? ' with BatchNorm' : ''} (${c.classifier} classifier) by its own configuration; leave the flags out`);
    }
    const name = `VGG${c.depth}${c.batchNorm ? '-BN' : ''}`;
    const version = packageVersion();
    const info: ExportInfo = {
      name,
      description: `${name}, ${CLASSIFIERS[c.classifier](c)}${c.reluOnLogits ? ' + ReLU on the logits' : ''}` +
        `${c.widthDivisor > 1 ? `, widths / ${c.widthDivisor}` : ''}, ${c.inputSize[0]}x${c.inputSize[1]} RGB input`,
      config: c, classes: m.classes, inputSize: [...c.inputSize],
      normalization: m.normalize ? { mean: [...CIFAR10_MEAN], std: [...CIFAR10_STD] } : null,
      normalizationInModel: !!o.includeNormalization && m.normalize,
      foldedBn: !!o.foldBn && c.batchNorm,
      epoch: m.epoch, evaluation: m.evaluation, source: basename(o.checkpoint), generator: `${GENERATOR_META} ${version}`, version,
    };
    return { graph: inferenceGraph(m.model, { foldBn: o.foldBn, weights: m.weights }), info };
  } finally {
    m.dispose();
  }
}

/** How the exported model wants its input, in words (written into every format's metadata). */
export function inputContract(info: ExportInfo, layout: 'NCHW' | 'NHWC'): string {
  const [h, w] = info.inputSize;
  const shape = layout === 'NCHW' ? `[N, 3, ${h}, ${w}]` : `[N, ${h}, ${w}, 3]`;
  const n = info.normalization;
  const values = !n || info.normalizationInModel ? 'RGB pixels / 255 (in [0, 1])'
    : `(RGB pixels / 255 - mean) / std per channel, mean [${n.mean.join(', ')}], std [${n.std.join(', ')}]`;
  return `float32 ${shape}: ${values}; output: ${info.classes.length} logits (softmax for probabilities)`;
}

// Candidate recipes for issue 16, as (recipe, overrides): what bench/recipe-sweep.sh runs on a GPU and
// bench/cpu-proxy.sh on the CPU. None of these is measured yet; the winners replace FAST_RECIPE's and
// SPEED_RECIPE's values in lib/train/options.ts once a GPU run has measured them (bench/README-recipes.md).
import { RECIPE_NAMES, type RecipeName, type TrainOptions } from '../../lib/train/options.js';

export interface Candidate {
  name: string;
  recipe: RecipeName;
  overrides: Partial<TrainOptions>;
  /** What it tests. */
  why: string;
}

/** PyTorch anchor's hyper-parameters (../shared/gpu/results-2026-12-04-h200/pytorch-recipe-anchor.py):
 *  batch 512, one-cycle to 0.4 with a 25% rise, reflect-padded crops. TF32 on CUDA, as the measured
 *  fast run (88.51%) had: the fast candidates then differ from it only in what they name. */
const ANCHOR: Partial<TrainOptions> = { batchSize: 512, lr: 0.4, warmupShare: 0.25, padMode: 'reflect', tf32: true };

export const CANDIDATES: readonly Candidate[] = [
  ...RECIPE_NAMES.map((r) => ({ name: r, recipe: r, overrides: {}, why: `the ${r} recipe as defined in lib/train/options.ts` })),
  { name: 'fast-tf32', recipe: 'fast', overrides: { tf32: true }, why: 'the fast recipe (batch 512, lr 0.4 since 2026-12-04) in TF32' },
  { name: 'fast-b128-lr0.02', recipe: 'fast', overrides: { batchSize: 128, lr: 0.02, warmupShare: 0.3, padMode: 'zero', tf32: true },
    why: 'the fast recipe before 2026-12-04, as measured on the H200 (88.51%, seed 0, TF32): the baseline of the others' },
  { name: 'fast-b512-lr0.4', recipe: 'fast', overrides: { ...ANCHOR },
    why: "the PyTorch anchor's batch, peak lr, rise and padding (90.33% with TTA in PyTorch, one seed); linear scaling of lr with batch (Goyal et al. 2017)" },
  { name: 'fast-b512-lr0.2', recipe: 'fast', overrides: { ...ANCHOR, lr: 0.2 }, why: 'half the peak lr of the anchor' },
  { name: 'fast-b256-lr0.2', recipe: 'fast', overrides: { ...ANCHOR, batchSize: 256, lr: 0.2 }, why: 'twice the steps at the same lr per sample as the anchor' },
  { name: 'fast-b512-lr0.4-ls0.2', recipe: 'fast', overrides: { ...ANCHOR, labelSmoothing: 0.2 }, why: 'label smoothing 0.2 (Page 2018; Jordan 2024)' },
  { name: 'fast-b512-lr0.4-wd1e-3', recipe: 'fast', overrides: { ...ANCHOR, weightDecay: 1e-3 },
    why: 'more weight decay: ours spares biases and BatchNorm, the anchor decays everything' },
  { name: 'fast-b512-lr0.4-plain', recipe: 'fast', overrides: { ...ANCHOR, nesterov: false }, why: 'plain momentum instead of Nesterov' },
  // TF32 as fast-tf32 and fast-b128-lr0.02 (a CUDA-only setting: on the CPU these are fast's runs plus the one change)
  { name: 'fast-ema0.995', recipe: 'fast', overrides: { emaDecay: 0.995, tf32: true },
    why: 'evaluate a moving average of the weights (about the last 200 steps, 2 epochs at batch 512; Polyak averaging, as in Page 2018)' },
  { name: 'fast-plain2', recipe: 'fast', overrides: { plainEpochs: 2, tf32: true }, why: 'the last 2 epochs without crop and flip' },
  { name: 'fast-cutout8', recipe: 'fast', overrides: { cutout: 8, tf32: true },
    why: 'Cutout 8 x 8 (DeVries & Taylor 2017 used 16 x 16 over 200 epochs; a smaller square for 30)' },
  { name: 'speed-tf32', recipe: 'speed', overrides: { precision: 'fp32', tf32: true }, why: 'the speed recipe in TF32 (bf16 VGG16-BN ran 3x slower than TF32 on the H200 of 2026-12-04)' },
  { name: 'speed-16ep', recipe: 'speed', overrides: { epochs: 16 }, why: 'fewer epochs' },
  { name: 'speed-linear', recipe: 'speed', overrides: { schedule: 'linear', warmupShare: 0.2 }, why: "Page's piecewise-linear cycle (2018) instead of the cosine one-cycle" },
  { name: 'speed-b1024-lr0.8', recipe: 'speed', overrides: { batchSize: 1024, lr: 0.8 }, why: 'batch 1024 (Jordan 2024) with the lr scaled linearly' },
];

export function candidateNamed(name: string): Candidate {
  const c = CANDIDATES.find((k) => k.name === name);
  if (!c) throw new RangeError(`unknown candidate '${name}'; known: ${CANDIDATES.map((k) => k.name).join(', ')}`);
  return c;
}

// The package's API: tensors and backends, the layer graph and VGG family, optimizers, CIFAR-10 data,
// training (train() in a worker thread) and evaluation.
export { native, backends, resolveDevice, type BackendChoice, type Device, type DType, type Layout } from './backend.js';
export { cpuBf16Speed, measureBf16Speed, type Bf16Speed, type CpuBf16SpeedResult } from './bf16-speed.js';
export * from './tensor.js';
export * from './nn/index.js';
export * from './models/index.js';
export * from './optim/index.js';
export * from './data/index.js';
export { Rng } from './nn/index.js';
export { train, TrainRun, resolveTrainOptions, RECIPES, type TrainInput, type TrainOptions, type RecipeName } from './train/index.js';
export type { ProgressEvent, EpochEvent, CheckpointEvent, WarningEvent, RunInfo, TrainHistory, TrainHooks } from './train/events.js';
export { runTraining } from './train/loop.js';
export { evaluate, type EvaluateOptions } from './train/evaluate-api.js';
export { evaluateSplit, formatConfusion, type EvalResult } from './train/evaluate.js';
export { StallDetector } from './train/stall.js';
export { MAX_STEP_RECORDS, MAX_WARNINGS } from './train/series.js';
export { visualize, type VisualizeOptions, type Visualization } from './report/visualize.js';
export { predict, type PredictOptions, type Prediction } from './report/predict.js';
export { renderReport, type ReportOptions, type ReportResult } from './report/report.js';
export { featureMaps, type FeatureMaps, type LayerMaps } from './report/features.js';
export type { RunRecord } from './report/run-file.js';

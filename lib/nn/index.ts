// The layer graph. Public API (as the training loop uses it):
//   Module: build(device, inputShape incl. batch, inputLayout?) -> output shape (allocations cached per
//     input shape: switching batch sizes reuses earlier builds); forward(x) -> preallocated output;
//     backward(dy) -> preallocated dx, or null for the first layer of a network; train(mode)/eval();
//     parameters() -> Param {name, value, grad, weightDecay}; buffers(); to(device); dispose().
//   Deviations from the first sketch, on purpose:
//   - build() takes an optional third argument, the input's layout (Sequential passes each layer's
//     outputLayout on); forward() checks the input's shape and layout against the build and throws.
//   - ReLU's backward writes in place over dy (native.reluBackward allows it): no gradient buffer.
//   - Linear + ReLU pairs are fused too, not only Conv2d + ReLU.
//   - BatchNorm2d's num_batches_tracked is a host counter (numBatchesTracked), saved as an int64 scalar
//     in state dicts; buffers() lists only the running_mean/running_var tensors.
//   - prepareStep() (Module, and SoftmaxCrossEntropyLoss.prepareStep(batchSize)) does a training step's host
//     effects ahead of its forward (BatchNorm's count, Dropout's seed written to a device tensor, the loss's
//     counts), leaving forward/loss/backward device work that a captured CUDA graph can replay.
//   - Params are allocated on the cpu at construction; build(device) moves them (to(device)). Param
//     objects from parameters() read the live tensors through getters, but optimizer state is allocated
//     where the params are when the optimizer is made: build/to(device) first, then create it.
//   - Checkpoints hold optimizer tensors as extra `optimizer.state.<param>.<key>` entries, so Python
//     loads a full checkpoint with load_state_dict(..., strict=False); saveCheckpoint(path, { model })
//     alone writes a strict PyTorch state dict.
export { Module, BuildCache, activationLayout, numel, PRECISIONS, type Param, type BufferEntry, type Precision } from './module.js';
export { CastBoundary } from './precision.js';
export { Conv2d, type Conv2dOptions } from './conv.js';
export { Linear } from './linear.js';
export { ReLU, Dropout, Flatten } from './activation.js';
export { MaxPool2d } from './pool.js';
export { BatchNorm2d } from './batchnorm.js';
export { Sequential } from './sequential.js';
export { WeightAverage, type WeightAverageOptions } from './ema.js';
export { initialize, type InitOptions, type InitScheme } from './init.js';
export { Rng, mixSeed } from './rng.js';
export { summary, formatSummary, fixed2, thousands, type Summary, type SummaryRow } from './summary.js';
export { SoftmaxCrossEntropyLoss, type LossReading } from './loss.js';
export { stateDict, loadStateDict, StateDictError, type StateDict, type LoadResult } from './state.js';
export {
  readSafetensors, readSafetensorsMetadata, parseSafetensors, serializeSafetensors, writeSafetensorsFd, encodeHeader, dtypeBytes,
  SafetensorsError, MAX_HEADER_BYTES, type HostTensor, type SafeDType, type HostArray, type SafetensorsContents,
} from './safetensors.js';
export {
  saveCheckpoint, loadCheckpoint, checkpointHeader, restoreCheckpoint, OPTIMIZER_PREFIX, TRAINING_PREFIX, type Checkpoint, type CheckpointInput,
} from './checkpoint.js';
export type { StatefulOptimizer } from './optimizer-state.js';
export { writeFileAtomic, writeFolderAtomic } from '../atomic-file.js';

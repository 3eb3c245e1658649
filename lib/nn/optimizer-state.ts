// What a checkpoint needs of an optimizer: its state as a serializable dict, and a way to load one back.
// Defined here, below lib/optim, so that checkpoints (nn) import nothing of the optimizers; lib/optim's
// Optimizer implements it.
import type { HostTensor } from './safetensors.js';

/** Serializable optimizer state: JSON-able fields plus host tensors named `<param>.<key>`
 *  (e.g. `net.0.weight.exp_avg`, PyTorch's state keys). */
export interface OptimizerStateDict {
  kind: string;
  groups: Array<{ options: Record<string, unknown>; params: string[] }>;
  steps: Record<string, number>;
  tensors: Map<string, HostTensor>;
}

/** An optimizer whose state a checkpoint saves and restores. */
export interface StatefulOptimizer {
  stateDict(): OptimizerStateDict;
  /** Throws, naming `source`, when the dict does not fit this optimizer. */
  loadStateDict(sd: OptimizerStateDict, source?: string): void;
}

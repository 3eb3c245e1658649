// What the profiler times: every native function that runs work on a device, with the name its row gets
// inside a layer, the kind its time is totalled under, and the floating-point work of one call where the
// op has a standard count (convolution 2*N*K*C*R*S*Ho*Wo per direction, linear 2*N*in*out per direction).
// Functions that only allocate, describe or configure (empty, preferredLayout, backends, setThreads…)
// are left alone; test/profile/profiler.test.ts checks that every function of the addon is in one list.
import type { NativeTensor } from '../backend.js';

export interface OpInfo {
  /** The row's op inside its layer, e.g. 'backward-data'. */
  op: string;
  /** The total it counts towards, e.g. 'conv backward-data'. */
  kind: string;
  /** Generic ops (cast, copy, fill…) take the phase they ran in: 'cast (forward)'. */
  phased?: boolean;
  /** Layer a call outside every module is attributed to ('data', 'optimizer', 'loss'). */
  outside?: string;
  /** Floating-point operations of one call. */
  flops?(args: unknown[]): number;
}

const t = (a: unknown[], i: number) => a[i] as NativeTensor;
/** 2 * (output or output-gradient elements) * C*R*S: the multiply-adds of one direction of a convolution. */
const convFlops = (out: NativeTensor, w: NativeTensor) => (2 * out.size * w.size) / w.shape[0];

export const PROFILED_OPS: Readonly<Record<string, OpInfo>> = {
  conv2dForward: { op: 'forward', kind: 'conv forward', flops: (a) => convFlops(t(a, 3), t(a, 1)) },
  conv2dBackwardData: { op: 'backward-data', kind: 'conv backward-data', flops: (a) => convFlops(t(a, 0), t(a, 1)) },
  conv2dBackwardFilter: { op: 'backward-filter', kind: 'conv backward-filter', flops: (a) => convFlops(t(a, 1), t(a, 2)) },
  linearForward: { op: 'forward', kind: 'linear forward', flops: (a) => 2 * t(a, 0).shape[0] * t(a, 1).size },
  // One native call computes the filter gradient and, when dx is given, the data gradient.
  linearBackward: { op: 'backward', kind: 'linear backward', flops: (a) => 2 * t(a, 0).shape[0] * t(a, 1).size * (a[3] ? 2 : 1) },
  batchNorm2dForward: { op: 'forward', kind: 'BatchNorm forward' },
  batchNorm2dBackward: { op: 'backward', kind: 'BatchNorm backward' },
  maxPool2dForward: { op: 'forward', kind: 'pooling forward' },
  maxPool2dBackward: { op: 'backward', kind: 'pooling backward' },
  reluForward: { op: 'forward', kind: 'ReLU' },
  reluBackward: { op: 'backward', kind: 'ReLU' },
  dropoutForward: { op: 'forward', kind: 'dropout' },
  dropoutBackward: { op: 'backward', kind: 'dropout' },
  cast: { op: 'cast', kind: 'cast (bf16 <-> fp32)', phased: true },
  copy: { op: 'copy', kind: 'copy (layout)', phased: true },
  fill: { op: 'fill', kind: 'fill', phased: true },
  axpby: { op: 'axpby', kind: 'other', phased: true },
  sumSquares: { op: 'sumSquares', kind: 'other', phased: true },
  argmax: { op: 'argmax', kind: 'loss and metrics', outside: 'loss' },
  softmax: { op: 'softmax', kind: 'loss and metrics', outside: 'loss' },
  softmaxCrossEntropy: { op: 'softmaxCrossEntropy', kind: 'loss and metrics', outside: 'loss' },
  countCorrect: { op: 'countCorrect', kind: 'loss and metrics', outside: 'loss' },
  sgdUpdate: { op: 'sgd update', kind: 'optimizer', outside: 'optimizer' },
  adamUpdate: { op: 'adam update', kind: 'optimizer', outside: 'optimizer' },
  adagradUpdate: { op: 'adagrad update', kind: 'optimizer', outside: 'optimizer' },
  sgdUpdateMulti: { op: 'sgd update (multi-tensor)', kind: 'optimizer', outside: 'optimizer' },
  adamUpdateMulti: { op: 'adam update (multi-tensor)', kind: 'optimizer', outside: 'optimizer' },
  adagradUpdateMulti: { op: 'adagrad update (multi-tensor)', kind: 'optimizer', outside: 'optimizer' },
  sgdCoefficients: { op: 'sgd coefficients', kind: 'optimizer', outside: 'optimizer' },
  adamCoefficients: { op: 'adam coefficients', kind: 'optimizer', outside: 'optimizer' },
  adagradCoefficients: { op: 'adagrad coefficients', kind: 'optimizer', outside: 'optimizer' },
  loadBatch: { op: 'loadBatch', kind: 'data', outside: 'data' },
  gatherLabels: { op: 'gatherLabels', kind: 'data', outside: 'data' },
  write: { op: 'write (host to device)', kind: 'data', outside: 'data' },
  toArray: { op: 'toArray (device to host)', kind: 'host reads', outside: 'host reads' },
  // A whole captured step as one row (the training loop profiles eagerly, but a loop of one's own may not).
  graphLaunch: { op: 'graph replay', kind: 'CUDA graph replay', outside: 'CUDA graph' },
};

/** Functions of the addon that run no device work worth a row (allocation, description, settings, the
 *  profiler's own timing events). */
export const UNPROFILED: ReadonlySet<string> = new Set([
  'version', 'napiVersion', 'backends', 'setThreads', 'getThreads', 'setTf32', 'empty', 'fromArray', 'preferredLayout',
  'liveBytes', 'maxPool2dWorkspaceSize', 'timingMark', 'timingRead', 'Tensor', 'optimizerCoefficientsSize',
  'graphCaptureBegin', 'graphCaptureEnd', 'graphCaptureAbort', 'graphCaptureId',
]);

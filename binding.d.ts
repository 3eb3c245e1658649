// The typed native surface: the one contract between native/ and lib/.
// Only lib/backend.ts loads the addon; everything else in lib/ goes through it.
//
// Conventions
// - Every op writes into output tensors the caller allocated (sized once per model and batch size,
//   reused every step); ops allocate nothing in the steady state.
// - All tensors passed to one op live on the same device; the op runs on that device.
// - Shapes are logical NCHW / row-major whatever the physical layout. `layout` is a storage detail:
//   'plain' is dense row-major; 'nChw8c' / 'nChw16c' are oneDNN's channel-blocked layouts (CPU, 4-D,
//   float32; 16 with AVX-512, 8 with AVX2), in which the CPU backend keeps activations between layers; 'nhwc' is for tensor cores on CUDA.
// - Dtypes: float32 everywhere by default. For bf16 mixed precision, the activation ops also take
//   bfloat16: convolution, linear, max pooling, ReLU, dropout and batch normalization, with every
//   activation/weight operand of one call in the same dtype. Biases, BatchNorm's per-channel tensors,
//   losses, metrics and optimizer updates stay float32; a weight gradient (dw) may be float32 while
//   the activations are bfloat16 (fp32 master gradients, accumulated in fp32). bf16 activations are
//   kept in 'nhwc' on both backends (oneDNN's AMX/AVX512-BF16 kernels, cuDNN's tensor cores).
// - Bad arguments throw TypeError / RangeError naming the op and the shapes received; failures inside
//   a backend (oneDNN, CUDA, cuDNN, cuBLAS status) throw Error with `op` and, where known, `call`.

export type DType = 'float32' | 'uint8' | 'int32' | 'bfloat16' | 'float16';
export type Device = 'cpu' | 'cuda';
export type Layout = 'plain' | 'nChw8c' | 'nChw16c' | 'nhwc';
export type TypedArrayOf<D extends DType> = D extends 'float32' ? Float32Array
  : D extends 'uint8' ? Uint8Array
  : D extends 'int32' ? Int32Array
  : Uint16Array;

export interface NativeTensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: Device;
  readonly layout: Layout;
  /** Number of elements. */
  readonly size: number;
  readonly disposed: boolean;
  /** Counts the writes to the storage through ops, write and fill (shared with its views): a cache
   *  of data derived from the tensor (e.g. a bf16 copy of fp32 weights) is stale when it changed. */
  readonly version: number;
  /** Frees the storage once no view refers to it; further use throws. Safe to call twice. */
  dispose(): void;
  /** A view with a new shape over the same storage (no copy). Plain layout only, or a blocked tensor
   *  whose spatial size is 1x1 (where blocked and plain coincide). One dimension may be -1. */
  reshape(shape: readonly number[]): NativeTensor;
}

/** A captured CUDA graph (graphCaptureEnd). It keeps every tensor and backend buffer its ops used
 *  allocated until it is disposed, whatever happens to the JS tensors meanwhile. */
export interface NativeGraph {
  readonly device: Device;
  /** Nodes (kernels, copies, library calls' kernels) recorded. */
  readonly nodes: number;
  readonly disposed: boolean;
  /** Waits for a replay still running, then frees what only the graph held. Safe to call twice. */
  dispose(): void;
}

export interface BackendInfo {
  device: Device;
  /** True when this backend can run ops in this process. */
  available: boolean;
  /** Compiled into this addon. */
  compiled: boolean;
  /** Human description: library versions, ISA, device name. */
  description: string;
  /** When not available: exactly which piece is missing. */
  reason?: string;
  details: Record<string, string | number | boolean>;
}

export interface ConvParams { strideH: number; strideW: number; padH: number; padW: number; }
export interface PoolParams { kernelH: number; kernelW: number; strideH: number; strideW: number; padH: number; padW: number; }
export interface BatchNormParams { training: boolean; momentum: number; eps: number;
  /** Apply ReLU to y in the same pass (a BatchNorm2d followed by ReLU); default false. */
  relu?: boolean; }

export interface SgdParams { lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number; maximize: boolean;
  /** True on the first step with this momentum buffer (PyTorch copies the gradient into it then). */
  firstStep: boolean; }
export interface AdamParams { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  /** AdamW: decoupled weight decay. */
  decoupled: boolean; amsgrad: boolean; maximize: boolean;
  /** 1-based step count after this update (bias correction). */
  step: number; }
export interface AdagradParams { lr: number; lrDecay: number; weightDecay: number; eps: number; maximize: boolean;
  /** 1-based step count after this update. */
  step: number; }

export interface BatchParams {
  /** Multiplier applied to uint8 pixels before normalization (1/255 for ToTensor). */
  scale: number;
  /** Per-channel mean and std subtracted/divided after scaling; length C, or empty for none. */
  mean: readonly number[];
  std: readonly number[];
  /** Random crop: pad each side by this many pixels, then crop back to HxW at a random offset (0 = off). */
  cropPad: number;
  padMode: 'zero' | 'reflect';
  /** Random horizontal flip with probability 0.5. */
  flip: boolean;
  /** Cutout (DeVries & Taylor 2017): a square of this side, centred at a random pixel (it may hang over the
   *  edges), set to 0 after normalization; 0 or absent: off. At most min(H, W). */
  cutout?: number;
  /** Seed of the counter-based RNG: the same (seed, position in batch) gives the same crop/flip on every backend. */
  seed: number;
}

export interface Binding {
  readonly version: string;
  readonly napiVersion: number;
  backends(): BackendInfo[];
  /** Threads used by the CPU backend (OpenMP). */
  setThreads(n: number): void;
  getThreads(): number;
  /**
   * TF32 tensor-core math for fp32 convolutions and GEMMs on the CUDA backend (Ampere and later):
   * about 10 bits of mantissa in the products, several times faster. Off by default (fp32 parity with
   * the CPU backend); VGG_CIFAR_TF32=1 sets the default. The CPU backend always computes in fp32.
   * backends()' cuda entry reports the setting in details.tf32.
   */
  setTf32(enabled: boolean): void;

  // ----- tensors -----
  empty(device: Device, shape: readonly number[], dtype: DType, layout?: Layout): NativeTensor;
  fromArray(device: Device, shape: readonly number[], data: Float32Array | Uint8Array | Int32Array | Uint16Array, dtype?: DType, layout?: Layout): NativeTensor;
  /** Copies out to a fresh typed array in plain row-major order (converting from the storage layout). */
  toArray(t: NativeTensor): Float32Array | Uint8Array | Int32Array | Uint16Array;
  /** Copies `src` into `dst` (same shape and dtype; layouts may differ: this is the reorder op). */
  copy(src: NativeTensor, dst: NativeTensor): void;
  /** Writes from a host array into an existing tensor (plain order in the array). */
  write(dst: NativeTensor, data: Float32Array | Uint8Array | Int32Array | Uint16Array): void;
  fill(t: NativeTensor, value: number): void;
  /** Layout the backend keeps activations of this shape and dtype in (default float32). */
  preferredLayout(device: Device, shape: readonly number[], dtype?: DType): Layout;
  /** Bytes live on a device (tensors not yet freed), for leak tests. */
  liveBytes(device: Device): number;

  // ----- convolution (NCHW x, OIHW w; x, w, y, dy, dx one dtype, float32 or bfloat16; dw float32 or that) -----
  conv2dForward(x: NativeTensor, w: NativeTensor, b: NativeTensor | null, y: NativeTensor, p: ConvParams, fuseRelu: boolean): void;
  conv2dBackwardData(dy: NativeTensor, w: NativeTensor, dx: NativeTensor, p: ConvParams): void;
  /** Writes dw (and db when given); does not accumulate. */
  conv2dBackwardFilter(x: NativeTensor, dy: NativeTensor, dw: NativeTensor, db: NativeTensor | null, p: ConvParams): void;

  // ----- pooling -----
  /** Bytes of workspace (a uint8 tensor) that maxPool2dForward needs in training to serve the backward. */
  maxPool2dWorkspaceSize(x: NativeTensor, y: NativeTensor, p: PoolParams): number;
  maxPool2dForward(x: NativeTensor, y: NativeTensor, workspace: NativeTensor | null, p: PoolParams): void;
  maxPool2dBackward(dy: NativeTensor, x: NativeTensor, y: NativeTensor, workspace: NativeTensor, dx: NativeTensor, p: PoolParams): void;

  // ----- linear: y[N,M] = x[N,K] w[M,K]^T + b[M] (dtypes as for convolution) -----
  linearForward(x: NativeTensor, w: NativeTensor, b: NativeTensor | null, y: NativeTensor, fuseRelu: boolean): void;
  /** dx may be null (first layer); dw and db are overwritten. */
  linearBackward(x: NativeTensor, w: NativeTensor, dy: NativeTensor, dx: NativeTensor | null, dw: NativeTensor, db: NativeTensor | null): void;

  // ----- elementwise -----
  reluForward(x: NativeTensor, y: NativeTensor): void;
  /** dx = dy where y > 0 else 0 (y is the ReLU output; in place allowed: dx may be dy). */
  reluBackward(y: NativeTensor, dy: NativeTensor, dx: NativeTensor): void;
  /** Inverted dropout: y = x * mask / (1 - p); mask (uint8, plain, x's shape, in logical NCHW order whatever x's
   *  layout; drawn from (seed, logical index) so every backend drops the same elements) is written.
   *  seedTensor (int32 [1], plain, on x's device; read only): when given, the op reads the seed from it (the
   *  uint32 whose bits it holds; on CUDA the kernel reads device memory, no host sync) instead of `seed`, with
   *  the same result as passing that number: a captured CUDA graph then draws a new mask for every seed
   *  written there between replays. */
  dropoutForward(x: NativeTensor, mask: NativeTensor, y: NativeTensor, p: number, seed: number, seedTensor?: NativeTensor | null): void;
  dropoutBackward(dy: NativeTensor, mask: NativeTensor, dx: NativeTensor, p: number): void;
  /** y = alpha * x + beta * y (beta = 0: y is not read, BLAS-style). */
  axpby(x: NativeTensor, y: NativeTensor, alpha: number, beta: number): void;
  /**
   * dst = src converted between float32 and bfloat16 (same device, shape and layout): to bfloat16 rounds
   * to nearest, ties to even (NaN stays NaN), back to float32 is exact. The building block of bf16 mixed
   * precision (bf16 copies of fp32 master weights; bf16 gradients back to fp32).
   */
  cast(src: NativeTensor, dst: NativeTensor): void;

  // ----- batch normalization (per channel of NCHW; x, y, dy, dx float32 or bfloat16, the rest float32) -----
  /** Eval mode (training false) reads the running statistics and leaves them and saveMean/saveInvStd untouched. */
  batchNorm2dForward(x: NativeTensor, gamma: NativeTensor, beta: NativeTensor, runningMean: NativeTensor, runningVar: NativeTensor,
    y: NativeTensor, saveMean: NativeTensor, saveInvStd: NativeTensor, p: BatchNormParams): void;
  /** reluY: the forward's y when it ran with relu: true. dy is then the gradient after that ReLU, masked by
   *  reluY > 0 here (one pass instead of a reluBackward before); dy may be overwritten with the masked values. */
  batchNorm2dBackward(x: NativeTensor, dy: NativeTensor, gamma: NativeTensor, saveMean: NativeTensor, saveInvStd: NativeTensor,
    dx: NativeTensor, dgamma: NativeTensor, dbeta: NativeTensor, eps: number, reluY?: NativeTensor | null): void;

  // ----- loss and metrics -----
  /** Mean softmax cross-entropy over the batch (optionally label-smoothed). Adds the batch's mean loss to
   *  lossAcc[0] (or overwrites it when accumulate is false) and writes dlogits (may be null). No host sync. */
  softmaxCrossEntropy(logits: NativeTensor, labels: NativeTensor, dlogits: NativeTensor | null, lossAcc: NativeTensor,
    labelSmoothing: number, accumulate: boolean): void;
  /** out[i] = argmax_j logits[i, j] (int32). */
  argmax(logits: NativeTensor, out: NativeTensor): void;
  /** Adds the number of rows whose argmax equals the label to correct[0] (int32), or overwrites it. */
  countCorrect(logits: NativeTensor, labels: NativeTensor, correct: NativeTensor, accumulate: boolean): void;
  /** out[0] (+)= sum of squares of x; NaN/Inf propagate, so this also detects non-finite values. */
  sumSquares(x: NativeTensor, out: NativeTensor, accumulate: boolean): void;
  /** Row-wise softmax probabilities. */
  softmax(logits: NativeTensor, probs: NativeTensor): void;

  // ----- optimizer updates (fused, one pass over a parameter; PyTorch's formulas) -----
  sgdUpdate(param: NativeTensor, grad: NativeTensor, momentumBuf: NativeTensor | null, p: SgdParams): void;
  adamUpdate(param: NativeTensor, grad: NativeTensor, expAvg: NativeTensor, expAvgSq: NativeTensor, maxExpAvgSq: NativeTensor | null, p: AdamParams): void;
  adagradUpdate(param: NativeTensor, grad: NativeTensor, stateSum: NativeTensor, p: AdagradParams): void;

  // ----- multi-tensor optimizer updates: every parameter of a group in one launch (PyTorch's fused
  // optimizers), bit for bit equal to the per-tensor updates above. The step's scalars are not arguments
  // but a coefficients tensor on the device, written before the update: a captured CUDA graph replays the
  // update with the learning rate and step count written last. -----
  /** float32 elements of a coefficients tensor (one step's folded scalars, opaque, tagged with the optimizer's kind). */
  readonly optimizerCoefficientsSize: number;
  /**
   * Folds one step's scalars on the host in double, exactly as sgdUpdate / adamUpdate / adagradUpdate do,
   * and writes them into `coeffs` (float32 [optimizerCoefficientsSize], plain, on the device of the update)
   * in stream order. Host work: RangeError while a graph capture runs (write them between replays).
   */
  sgdCoefficients(p: SgdParams, coeffs: NativeTensor): void;
  adamCoefficients(p: AdamParams, coeffs: NativeTensor): void;
  adagradCoefficients(p: AdagradParams, coeffs: NativeTensor): void;
  /**
   * One launch over every parameter of a group: the i-th entries of the lists belong to parameter i and are
   * checked as the per-tensor update checks them; the lists are non-empty and of one length, on one device,
   * and nothing updated shares storage with any other tensor of the call. The update reads its scalars from
   * `coeffs` (written by the matching *Coefficients). Coefficients of another optimizer, or momentum > 0 with
   * momentumBufs null (amsgrad with maxExpAvgSq null), are refused without updating anything: at once with a
   * RangeError on the CPU, and on CUDA (where only the device sees the coefficients) by the next read from
   * the device (toArray), which throws that RangeError. On CUDA the first call with a new set of tensors
   * builds a device table of their pointers (kept for the 32 most recent sets): run it once before capturing.
   */
  sgdUpdateMulti(params: readonly NativeTensor[], grads: readonly NativeTensor[], momentumBufs: readonly NativeTensor[] | null, coeffs: NativeTensor): void;
  adamUpdateMulti(params: readonly NativeTensor[], grads: readonly NativeTensor[], expAvg: readonly NativeTensor[], expAvgSq: readonly NativeTensor[],
    maxExpAvgSq: readonly NativeTensor[] | null, coeffs: NativeTensor): void;
  adagradUpdateMulti(params: readonly NativeTensor[], grads: readonly NativeTensor[], stateSum: readonly NativeTensor[], coeffs: NativeTensor): void;

  // ----- data -----
  /** out[b] = transform(dataset[indices[b]]): gather from a uint8 NCHW dataset, scale, normalize, random
   *  crop and flip. dataset [N,C,H,W] uint8, indices [B] int32, out [B,C,H,W] float32. seedTensor as
   *  dropoutForward's: when given, it replaces p.seed (which must still be a valid seed). */
  loadBatch(dataset: NativeTensor, indices: NativeTensor, out: NativeTensor, p: BatchParams, seedTensor?: NativeTensor | null): void;
  /** out[b] = labels[indices[b]] as int32 (labels uint8 or int32 [N]). */
  gatherLabels(labels: NativeTensor, indices: NativeTensor, out: NativeTensor): void;

  // ----- CUDA graphs (lib/step-graphs.ts) -----
  /**
   * From here to graphCaptureEnd the device's ops are recorded instead of run ('cuda' only: the cpu
   * backend throws RangeError). Work that cannot be captured throws RangeError naming the op: host
   * transfers (write, toArray), allocation (empty), a convolution shape's first call (its algorithm
   * search), the KRSC copy of new weights, workspace growth, timing marks, and any op on the cpu. So run
   * a step once eagerly before capturing it. Caches of data derived from tensors (bf16 and KRSC weight
   * copies) redo their work once in a capture. One capture at a time per process.
   */
  graphCaptureBegin(device: Device): void;
  /** Ends the capture and instantiates it; throws (having discarded it) when the capture failed. */
  graphCaptureEnd(device: Device): NativeGraph;
  /** Ends and discards a capture that failed part way (an op threw); nothing when none is running. */
  graphCaptureAbort(device: Device): void;
  /** The running capture's id (distinct for every capture of the process), 0 when none runs: a cache of
   *  derived data redoes its work once per capture. */
  graphCaptureId(): number;
  /**
   * Replays the graph on its device's stream, asynchronously like any op, and bumps the version of every
   * tensor its ops wrote. The ops read what their tensors hold when they run: write a step's inputs
   * (indices, seeds, optimizer coefficients) before.
   */
  graphLaunch(graph: NativeGraph): void;

  // ----- profiling (lib/profile): timing events on the CUDA backend's stream -----
  /**
   * Records a timing event after the work queued on the device so far, without waiting, and returns its
   * index since the last timingRead (0, 1, 2…). 'cuda' only: the CPU backend's ops are synchronous, so the
   * profiler times them on the host (performance.now()); 'cpu' throws RangeError. Events are pooled per
   * thread and reused; more than 2^22 marks without a read throw RangeError.
   */
  timingMark(device: Device): number;
  /**
   * Waits for the last mark (the window's one synchronization), then returns each mark's time in ms after
   * the first one (the first is 0; empty when none was made) and forgets the marks.
   */
  timingRead(device: Device): Float64Array;
}

declare const binding: Binding;
export default binding;

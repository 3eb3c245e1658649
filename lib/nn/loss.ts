// Softmax cross-entropy with device-side accumulators: each step adds its mean loss and its correct
// count on the device; the host reads them (one sync) every N steps with read().
import { native, type Device } from '../backend.js';
import { scalar, type Tensor } from '../tensor.js';
import { BuildCache } from './module.js';

interface LossBuild {
  dlogits: Tensor;
  tensors: Array<Tensor | null>;
}

export interface LossReading {
  /** Mean of the per-batch mean losses since the last reset. */
  loss: number;
  /** Fraction of samples whose argmax was the label. */
  accuracy: number;
  correct: number;
  samples: number;
  batches: number;
}

export class SoftmaxCrossEntropyLoss {
  readonly labelSmoothing: number;
  device: Device | null = null;
  /** Sum of batch mean losses since reset() (float32 [1]). */
  lossAcc: Tensor | null = null;
  /** Correct predictions since reset() (int32 [1]). */
  correct: Tensor | null = null;
  private batches = 0;
  private samples = 0;
  /** The batch size prepareStep counted for the next forward, or null when it is not prepared. */
  private preparedSize: number | null = null;
  private lastPrepared: number | null = null;
  private readonly cache = new BuildCache<LossBuild>();

  constructor(opts: { labelSmoothing?: number } = {}) {
    const ls = opts.labelSmoothing ?? 0;
    if (!(ls >= 0 && ls < 1)) throw new RangeError(`SoftmaxCrossEntropyLoss: labelSmoothing must be in [0, 1), got ${ls}`);
    this.labelSmoothing = ls;
  }

  /** Allocates the accumulators (once per device) and dlogits for this logits shape [N, classes]. */
  build(device: Device, logitsShape: readonly number[]): void {
    if (logitsShape.length !== 2) throw new RangeError(`SoftmaxCrossEntropyLoss: logits must be [N, classes], got [${logitsShape.join(', ')}]`);
    if (this.device !== device) {
      this.dispose();
      this.device = device;
      this.lossAcc = native.empty(device, [1], 'float32');
      this.correct = native.empty(device, [1], 'int32');
      this.reset();
    }
    this.cache.select(logitsShape.join('x'), () => {
      const dlogits = native.empty(device, logitsShape, 'float32');
      return { dlogits, tensors: [dlogits] };
    });
  }

  /** Adds this batch's mean loss and correct count to the accumulators and returns dlogits (the gradient
   *  of the batch mean loss), or null when `grad` is false (evaluation). */
  forward(logits: Tensor, labels: Tensor, opts: { grad?: boolean } = {}): Tensor | null {
    const e = this.cache.current;
    if (!e || !this.lossAcc || !this.correct) throw new Error('SoftmaxCrossEntropyLoss: call build(device, logitsShape) first');
    if (e.dlogits.shape[0] !== logits.shape[0] || e.dlogits.shape[1] !== logits.shape[1]) {
      throw new RangeError(`SoftmaxCrossEntropyLoss: logits are [${logits.shape.join(', ')}], built for [${e.dlogits.shape.join(', ')}]`);
    }
    const prepared = this.preparedSize;
    this.preparedSize = null;
    if (prepared !== null && prepared !== logits.shape[0]) {
      throw new RangeError(`SoftmaxCrossEntropyLoss: prepareStep counted a batch of ${prepared}, but the logits are [${logits.shape.join(', ')}]`);
    }
    const grad = opts.grad ?? true;
    native.softmaxCrossEntropy(logits, labels, grad ? e.dlogits : null, this.lossAcc, this.labelSmoothing, true);
    native.countCorrect(logits, labels, this.correct, true);
    if (prepared === null) this.count(logits.shape[0]);
    return grad ? e.dlogits : null;
  }

  /** Counts the next forward's batch (of batchSize samples) ahead, so that the forward is device work only
   *  (a captured CUDA graph replays it); called again before that forward, it counts one more batch. */
  prepareStep(batchSize: number): void {
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`SoftmaxCrossEntropyLoss.prepareStep: batchSize must be a positive integer, got ${batchSize}`);
    this.count(batchSize);
    this.preparedSize = this.lastPrepared = batchSize;
  }

  /** Prepares the next forward again as the last prepareStep did, without counting again (see
   *  Module.rearmStep). */
  rearmStep(): void {
    this.preparedSize = this.lastPrepared;
  }

  private count(samples: number): void {
    this.batches++;
    this.samples += samples;
  }

  /** Reads the accumulators (a host sync); `reset` (default true) starts a new window. */
  read(reset = true): LossReading {
    if (!this.lossAcc || !this.correct) throw new Error('SoftmaxCrossEntropyLoss: call build() first');
    const lossSum = scalar(this.lossAcc);
    const correct = scalar(this.correct);
    const r: LossReading = {
      loss: this.batches ? lossSum / this.batches : NaN,
      accuracy: this.samples ? correct / this.samples : NaN,
      correct,
      samples: this.samples,
      batches: this.batches,
    };
    if (reset) this.reset();
    return r;
  }

  reset(): void {
    if (this.lossAcc) native.fill(this.lossAcc, 0);
    if (this.correct) native.fill(this.correct, 0);
    this.batches = this.samples = 0;
  }

  dispose(): void {
    this.cache.clear();
    this.lossAcc?.dispose();
    this.correct?.dispose();
    this.lossAcc = this.correct = null;
    this.device = null;
  }
}

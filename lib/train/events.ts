// What a training run reports, as plain objects (they cross the worker boundary by structured clone).

export interface ProgressEvent {
  epoch: number; // 1-based
  step: number; // global step, 1-based
  stepInEpoch: number;
  stepsPerEpoch: number;
  samplesSeen: number; // in this epoch
  samplesPerEpoch: number;
  /** Mean training loss over the steps since the last progress event. */
  loss: number;
  /** Training accuracy (0-1) over the steps since the last progress event (the train split). */
  accuracy: number;
  lr: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

export interface EpochEvent {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  /** Evaluated on the TEST split (null when evaluation was switched off). */
  testLoss: number | null;
  testAccuracy: number | null;
  seconds: number;
  imagesPerSecond: number;
}

export interface CheckpointEvent {
  epoch: number;
  step: number;
  path: string;
  reason: 'scheduled' | 'final' | 'abort' | 'non-finite';
}

export interface WarningEvent {
  kind: 'stall' | 'non-finite' | 'other';
  message: string;
}

export interface RunInfo {
  device: string;
  deviceDescription: string;
  parameters: number;
  trainImages: number;
  testImages: number;
  startEpoch: number;
  startStep: number;
}

export interface TrainHistory {
  info: RunInfo;
  steps: ProgressEvent[];
  epochs: EpochEvent[];
  checkpoints: CheckpointEvent[];
  warnings: WarningEvent[];
  aborted: boolean;
  stoppedOnNonFinite: boolean;
  seconds: number;
}

export type WorkerMessage =
  | { type: 'info'; info: RunInfo }
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'epoch'; event: EpochEvent }
  | { type: 'checkpoint'; event: CheckpointEvent }
  | { type: 'warning'; event: WarningEvent }
  | { type: 'log'; line: string }
  | { type: 'done'; history: TrainHistory }
  | { type: 'error'; name: string; message: string; stack?: string };

export interface TrainHooks {
  onInfo?(info: RunInfo): void;
  onProgress?(e: ProgressEvent): void;
  onEpoch?(e: EpochEvent): void;
  onCheckpoint?(e: CheckpointEvent): void;
  onWarning?(e: WarningEvent): void;
  /** The report's line every `display` steps, and other plain log lines. */
  onLog?(line: string): void;
  /** Polled between steps; true stops the run after saving a checkpoint. */
  shouldStop?(): boolean;
}

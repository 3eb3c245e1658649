// What a training run reports, as plain objects (they cross the worker boundary by structured clone).
import type { StepGraphStats } from '../step-graphs.js';
import type { ProfileReport } from '../profile/index.js';

export type { ProfileReport, ProfileRow } from '../profile/index.js';
import type { TtaMode } from './tta.js';
import type { RunSnapshot } from './run-file.js';

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
  /** Training images per second since the last reading (an epoch's first reading leaves out the
   *  evaluation, checkpoint and report before it). */
  imagesPerSecond: number;
  etaSeconds: number;
}

/** Where the run is: sent after the run's first step and each epoch's last, and in between at most once
 *  per TICK_MS (250 ms), so that a progress bar moves and estimates between the loss readings. */
export interface TickEvent {
  epoch: number; // 1-based
  step: number; // global step
  stepInEpoch: number;
  stepsPerEpoch: number;
  /** Seconds this process has spent training (steps and loss readings) so far, leaving out the
   *  evaluations, checkpoints and reports between epochs: wall time minus this is what those cost. */
  trainSeconds: number;
}

export const TICK_MS = 250;

export interface EpochEvent {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  /** Evaluated on the TEST split (null when evaluation was switched off). */
  testLoss: number | null;
  testAccuracy: number | null;
  /** Test-time augmentation of testAccuracy/testLoss ('none' or 'flip'; null without evaluation). */
  testTta: TtaMode | null;
  /** True when testAccuracy/testLoss are of the weights' moving average (emaDecay > 0), not the last step's. */
  testEma: boolean;
  /** Training time of this epoch (the test evaluation, checkpoints and reports not counted). */
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

/** Sent once the run's folder is checked and locked, before the data is read. */
export interface StartEvent {
  /** The run's folder (a fresh one under runsDir unless `out` or `resume` named one). */
  out: string;
  /** The run's id, in run.json and in each checkpoint (kept across resumes). */
  runId: string;
  /** The run folder's lock file, removed when the run ends. */
  lockFile: string;
  /** One-line notices: a stale lock taken over, files removed by `overwrite`, `latest` not updated. */
  notices: string[];
}

export interface RunInfo {
  /** The run's folder and id (as in the start event). */
  out: string;
  runId: string;
  device: string;
  deviceDescription: string;
  parameters: number;
  trainImages: number;
  testImages: number;
  startEpoch: number;
  startStep: number;
}

/** What a run keeps of itself. Its size does not grow with the run's length beyond the per-epoch and
 *  per-checkpoint records: a run of any length holds at most MAX_STEP_RECORDS (1000) progress records. */
export interface TrainHistory {
  info: RunInfo;
  /** Progress readings (one every `display` steps and at each epoch's end), at most MAX_STEP_RECORDS (1000)
   *  of them, evenly spaced: all of them until there are 1000, then every 2nd, every 4th… (when the list
   *  fills up every other record is dropped). The 'progress' events and the --log JSONL file carry every
   *  reading; run.json holds this same bounded series. */
  steps: ProgressEvent[];
  epochs: EpochEvent[];
  checkpoints: CheckpointEvent[];
  /** The first MAX_WARNINGS (100) warnings; every one is still emitted as a 'warning' event and logged. */
  warnings: WarningEvent[];
  aborted: boolean;
  stoppedOnNonFinite: boolean;
  seconds: number;
  /** The profiler's numbers when the run was started with `profile: true` and measured at least one step
   *  (formatProfile() makes the table). */
  profile?: ProfileReport;
  /** How the training steps ran on the cuda backend: eagerly, captured or replayed as CUDA graphs, and why
   *  graphs were off (null when they were on). */
  graphs?: StepGraphStats & { off: string | null };
}

export type WorkerMessage =
  | { type: 'start'; event: StartEvent }
  | { type: 'info'; info: RunInfo }
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'tick'; event: TickEvent }
  | { type: 'epoch'; event: EpochEvent }
  | { type: 'checkpoint'; event: CheckpointEvent }
  | { type: 'warning'; event: WarningEvent }
  | { type: 'log'; line: string }
  | { type: 'profile'; report: ProfileReport }
  | { type: 'publish'; snapshot: RunSnapshot }
  | { type: 'done'; history: TrainHistory }
  | { type: 'error'; name: string; message: string; stack?: string; code?: string; details?: unknown };

/** The caller's answer to a 'publish' message (error: the message of what the publisher threw). */
export type ParentMessage = { type: 'published'; error: string | null };

export interface TrainHooks {
  onStart?(e: StartEvent): void;
  onInfo?(info: RunInfo): void;
  onProgress?(e: ProgressEvent): void;
  onTick?(e: TickEvent): void;
  onEpoch?(e: EpochEvent): void;
  onCheckpoint?(e: CheckpointEvent): void;
  onWarning?(e: WarningEvent): void;
  /** The report's line every `display` steps, and other plain log lines. */
  onLog?(line: string): void;
  /** Once, when the profiled window (option `profile`) closes. */
  onProfile?(report: ProfileReport): void;
  /** Polled between steps; true stops the run after saving a checkpoint. */
  shouldStop?(): boolean;
  /** With option `report` (the default), after each epoch but the last and once at the end: the run so far,
   *  to write up (train() and the package's runTraining() write run.json and report.html from it). Awaited
   *  before the run goes on; what it throws becomes a warning and the run continues. */
  onPublish?(snapshot: RunSnapshot): Promise<void> | void;
}

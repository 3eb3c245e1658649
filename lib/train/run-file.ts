// run.json: what a training run writes next to its checkpoints after every epoch (configuration,
// history so far, the last test evaluation with its confusion matrix and misclassified images), the one
// input of report.html. It lives with the training run, not the report: the run folder's checks
// (run-folder.ts) read it, and the loop hands its RunSnapshot up through hooks.onPublish, where
// lib/report's publishRun() writes it and draws the page; the report only reads the folder.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import { MAX_STEP_RECORDS, thin } from './series.js';

export const RUN_FILE = 'run.json';
export const REPORT_FILE = 'report.html';
/** The report's feature-map picture and the note of which checkpoint it was drawn from. */
export const MAPS_FILE = 'feature-maps.png';
export const MAPS_META = '.feature-maps.json';
/** Misclassified test images kept in run.json (the report shows the first few dozen). */
export const MAX_MISCLASSIFIED = 1000;

export type RunStatus = 'running' | 'finished' | 'aborted' | 'stopped: non-finite loss';

export interface StepRecord { epoch: number; step: number; loss: number; accuracy: number; lr: number; imagesPerSecond: number }
export interface EpochRecord { epoch: number; trainLoss: number; trainAccuracy: number; testLoss: number | null; testAccuracy: number | null;
  /** 'none' or 'flip' (absent in records written before test-time augmentation existed: 'none'). */
  testTta?: 'none' | 'flip' | null;
  /** True when the test figures are of the weights' moving average (absent before averaging existed: false). */
  testEma?: boolean; seconds: number; imagesPerSecond: number }
export interface CheckpointRecord { epoch: number; step: number; path: string; reason: string }

export interface EvaluationRecord {
  /** Epochs completed when it was measured. */
  epoch: number;
  split: 'test' | 'train';
  count: number;
  accuracy: number;
  loss: number;
  /** Test-time augmentation of these figures ('none' or 'flip'; absent in older records: 'none'). */
  tta?: 'none' | 'flip';
  /** Of the weights' moving average (absent in older records: false). */
  averaged?: boolean;
  perClass: number[];
  confusion: number[][];
  /** [index in the split, true label, predicted label], first MAX_MISCLASSIFIED in split order. */
  misclassified: Array<[number, number, number]>;
  misclassifiedTotal: number;
}

export interface RunRecord {
  format: 'vgg-cifar-run';
  version: 1;
  /** The run that wrote the folder; its checkpoints carry the same id (absent in records from before run ids). */
  runId?: string;
  status: RunStatus;
  startedAt: string;
  updatedAt: string;
  /** Wall time of this process's part of the run so far. */
  seconds: number;
  options: Record<string, unknown>;
  /** The CIFAR-10 folder that was read (absolute), for the misclassified images. */
  dataDir: string;
  classes: string[];
  info: { device: string; deviceDescription: string; parameters: number; trainImages: number; testImages: number; startEpoch: number; startStep: number };
  /** The run's bounded step series (history.steps: at most MAX_STEP_RECORDS, evenly spaced); a resumed run
   *  puts its predecessors' series, thinned to at most MAX_STEP_RECORDS, in front. --log has every reading. */
  steps: StepRecord[];
  epochs: EpochRecord[];
  checkpoints: CheckpointRecord[];
  warnings: Array<{ kind: string; message: string }>;
  evaluation: EvaluationRecord | null;
}

/** What the training loop hands to hooks.onPublish after each epoch but the last and at the end. */
export interface RunSnapshot {
  out: string;
  runId: string;
  status: RunStatus;
  startedAt: string;
  seconds: number;
  options: object;
  dataDir: string;
  classes: string[];
  history: Pick<RunRecord, 'info' | 'steps' | 'epochs' | 'checkpoints' | 'warnings'>;
  evaluation: null | { epoch: number; split: 'test' | 'train'; count: number; accuracy: number; loss: number; tta?: 'none' | 'flip'; perClass: number[];
    confusion: number[][]; predictions: ArrayLike<number>; labels: ArrayLike<number>; averaged?: boolean };
}

export function readRunRecord(dir: string): RunRecord {
  const path = join(dir, RUN_FILE);
  if (!existsSync(path)) throw new Error(`${dir}: no ${RUN_FILE} here (training writes it next to its checkpoints after each epoch)`);
  let r: RunRecord;
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (r?.format !== 'vgg-cifar-run') throw new Error(`${path}: not a vgg-cifar run record (format ${JSON.stringify(r?.format)})`);
  return r;
}

/** The folder's run.json when it is run `runId`'s (or from before run ids); null when missing, unreadable
 *  or another run's: a resumed run's report then starts at the resume point. */
function ownRecord(dir: string, runId: string): RunRecord | null {
  try {
    const prev = readRunRecord(dir);
    return prev.runId === undefined || prev.runId === runId ? prev : null;
  } catch {
    return null;
  }
}

/** Builds the record; a resumed run keeps the history its predecessor wrote up to the resume point. */
export function runRecord(s: RunSnapshot): RunRecord {
  const ev = s.evaluation;
  let evaluation: EvaluationRecord | null = null;
  if (ev) {
    const mis: Array<[number, number, number]> = [];
    let total = 0;
    for (let i = 0; i < ev.count; i++) {
      if (ev.predictions[i] === ev.labels[i]) continue;
      total++;
      if (mis.length < MAX_MISCLASSIFIED) mis.push([i, ev.labels[i], ev.predictions[i]]);
    }
    evaluation = { epoch: ev.epoch, split: ev.split, count: ev.count, accuracy: ev.accuracy, loss: ev.loss, tta: ev.tta ?? 'none', perClass: ev.perClass,
      averaged: ev.averaged ?? false, confusion: ev.confusion, misclassified: mis, misclassifiedTotal: total };
  }
  const h = s.history;
  const steps = h.steps.map(({ epoch, step, loss, accuracy, lr, imagesPerSecond }) => ({ epoch, step, loss, accuracy, lr, imagesPerSecond }));
  const r: RunRecord = {
    format: 'vgg-cifar-run', version: 1, runId: s.runId, status: s.status, startedAt: s.startedAt, updatedAt: new Date().toISOString(), seconds: s.seconds,
    options: { ...s.options }, dataDir: resolve(s.dataDir), classes: s.classes, info: h.info, steps, epochs: [...h.epochs],
    checkpoints: [...h.checkpoints], warnings: [...h.warnings], evaluation,
  };
  const prev = h.info.startStep > 0 ? ownRecord(s.out, s.runId) : null;
  if (prev) {
    // Thinning is a no-op on a list within the cap, so the predecessors' part stays the same from one
    // epoch's record to the next: run.json holds at most 2 * MAX_STEP_RECORDS steps after any resumes.
    r.steps = [...thin(prev.steps.filter((p) => p.step <= h.info.startStep), MAX_STEP_RECORDS), ...r.steps];
    r.epochs = [...prev.epochs.filter((e) => e.epoch <= h.info.startEpoch), ...r.epochs];
    r.checkpoints = [...prev.checkpoints.filter((c) => c.step <= h.info.startStep), ...r.checkpoints];
    r.startedAt = prev.startedAt;
    if (!r.evaluation) r.evaluation = prev.evaluation;
  }
  return r;
}

export function writeRunRecord(dir: string, r: RunRecord): string {
  const path = join(dir, RUN_FILE);
  writeFileAtomic(path, (fd) => writeFileSync(fd, JSON.stringify(r)));
  return path;
}

// train(): runs the training loop in a worker thread so the caller's event loop stays responsive; the
// returned TrainRun is a Promise of the history and an EventEmitter of progress events. What the run
// publishes goes to the caller's `publish` (the package's train(), in lib/report, writes run.json and
// report.html with it): this floor imports nothing of the report.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { packageRoot } from '../backend.js';
import type { TrainOptions, RecipeName } from './options.js';
import { resolveTrainOptions } from './options.js';
import { withResumedOptions } from './resume.js';
import type { CheckpointEvent, EpochEvent, ParentMessage, ProfileReport, ProgressEvent, RunInfo, StartEvent, TickEvent, TrainHistory, TrainHooks, WarningEvent,
  WorkerMessage } from './events.js';
import { RunFolderError, type RunFolderErrorCode, type RunFolderErrorDetails } from './run-folder-error.js';
import { releaseLockOf } from './lock.js';

export type { TrainOptions, RecipeName } from './options.js';
export * from './events.js';
export { resolveTrainOptions, RECIPES } from './options.js';
export { RunFolderError, type RunFolderErrorCode, type LockHolder } from './run-folder-error.js';

export type TrainInput = Partial<TrainOptions> & { data: string; recipe?: RecipeName };
/** Takes the run's snapshot after each epoch but the last and at the end (option `report`); awaited. */
export type Publisher = NonNullable<TrainHooks['onPublish']>;

export interface TrainRunEvents {
  start: [StartEvent];
  info: [RunInfo];
  progress: [ProgressEvent];
  tick: [TickEvent];
  epoch: [EpochEvent];
  checkpoint: [CheckpointEvent];
  warning: [WarningEvent];
  log: [string];
  /** The profiler's numbers, once, when the run was started with `profile: true`. */
  profile: [ProfileReport];
}

export class TrainRun extends EventEmitter<TrainRunEvents> implements PromiseLike<TrainHistory> {
  readonly options: TrainOptions;
  /** The run's folder and id, once the 'start' event has come (null before). */
  out: string | null = null;
  runId: string | null = null;
  private readonly promise: Promise<TrainHistory>;
  private readonly stopFlag = new Int32Array(new SharedArrayBuffer(4));

  /** `publish`: called in this thread with each snapshot the run hands up (none: nothing is published). */
  constructor(input: TrainInput, signal?: AbortSignal, publish?: Publisher) {
    super();
    this.options = resolveTrainOptions(withResumedOptions(input));
    const script = join(packageRoot(), 'dist', 'lib', 'train', 'worker.js');
    if (!existsSync(script)) throw new Error(`vgg-cifar: ${script} is missing; run \`npm run build:ts\``);
    this.promise = new Promise<TrainHistory>((resolve, reject) => {
      const worker = new Worker(script, { workerData: { options: this.options, stopFlag: this.stopFlag, argv: process.argv, publish: publish !== undefined } });
      let settled = false;
      let lockFile: string | null = null;
      // A worker that dies without ending its run (or a process.exit() meanwhile) leaves its lock behind.
      const releaseLock = () => { if (lockFile && this.runId) releaseLockOf(lockFile, process.pid, this.runId); };
      const onAbort = () => this.stop();
      if (signal) {
        if (signal.aborted) this.stop();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        process.off('exit', releaseLock);
        fn();
      };
      worker.on('message', (m: WorkerMessage) => {
        switch (m.type) {
          case 'start':
            this.out = m.event.out;
            this.runId = m.event.runId;
            lockFile = m.event.lockFile;
            process.once('exit', releaseLock);
            this.emit('start', m.event);
            break;
          case 'info': this.emit('info', m.info); break;
          case 'progress': this.emit('progress', m.event); break;
          case 'tick': this.emit('tick', m.event); break;
          case 'epoch': this.emit('epoch', m.event); break;
          case 'checkpoint': this.emit('checkpoint', m.event); break;
          case 'warning': this.emit('warning', m.event); break;
          case 'log': this.emit('log', m.line); break;
          case 'profile': this.emit('profile', m.report); break;
          case 'publish': {
            // The worker's loop waits for this answer; a failure is its warning, not this promise's.
            const answer = (error: string | null) => worker.postMessage({ type: 'published', error } satisfies ParentMessage);
            Promise.resolve().then(() => publish?.(m.snapshot)).then(() => answer(null), (e: unknown) => answer(e instanceof Error ? e.message : String(e)));
            break;
          }
          case 'done': finish(() => resolve(m.history)); break;
          case 'error': {
            const err = m.name === 'RunFolderError' && m.details
              ? new RunFolderError(m.code as RunFolderErrorCode, m.message, m.details as RunFolderErrorDetails)
              : Object.assign(new Error(m.message), m.code ? { code: m.code } : {});
            err.name = m.name;
            if (m.stack) err.stack = m.stack;
            finish(() => reject(err));
            break;
          }
        }
      });
      worker.on('error', (err) => finish(() => reject(err)));
      worker.on('exit', (code) => finish(() => {
        releaseLock();
        reject(new Error(`training worker exited with code ${code} before finishing`));
      }));
    });
  }

  /** Stops after the current step, saving a checkpoint first. */
  stop(): void {
    Atomics.store(this.stopFlag, 0, 1);
  }

  then<A = TrainHistory, B = never>(onOk?: ((h: TrainHistory) => A | PromiseLike<A>) | null, onErr?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.promise.then(onOk, onErr);
  }
}

/** Trains in a worker thread. `await train(opts)` gives the history; `.on('progress', …)` streams events.
 *  Publishes to `opts.publish` only (the package's train() adds run.json and report.html). */
export function train(input: TrainInput, opts: { signal?: AbortSignal; publish?: Publisher } = {}): TrainRun {
  return new TrainRun(input, opts.signal, opts.publish);
}

// Worker-thread entry of train(): runs the loop and posts its events to the parent. A snapshot to publish
// goes up too ('publish'), and the loop waits for the parent's answer ('published'): the publisher
// (lib/report's, for the package's train()) is the caller's, this floor imports none.
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { TrainOptions } from './options.js';
import type { ParentMessage, WorkerMessage } from './events.js';
import type { RunSnapshot } from './run-file.js';
import { runTraining } from './loop.js';
import { RunFolderError } from './run-folder-error.js';

const { options, stopFlag, argv, publish } = workerData as { options: TrainOptions; stopFlag: Int32Array; argv: string[]; publish: boolean };
// This thread's process.argv names the worker script; the run's lock file names the caller's command.
process.argv = argv;

// On Linux a priority set with pid 0 applies to the calling thread only (and to the OpenMP threads it
// starts afterwards): training yields the cores to the caller's event loop whenever it needs them.
try {
  setPriority(0, Math.min(19, getPriority(0) + 5));
} catch {
  // not permitted here: training still runs, at the caller's priority
}
const post = (m: WorkerMessage) => parentPort!.postMessage(m);

/** Hands the snapshot to the parent's publisher and settles with its answer. The listener is there only
 *  while an answer is awaited, so the port does not keep the thread alive once the run is over. */
const publishUp = (snapshot: RunSnapshot) => new Promise<void>((resolve, reject) => {
  parentPort!.once('message', (m: ParentMessage) => (m.error === null ? resolve() : reject(new Error(m.error))));
  post({ type: 'publish', snapshot });
});

try {
  const history = runTraining(options, {
    onStart: (event) => post({ type: 'start', event }),
    onInfo: (info) => post({ type: 'info', info }),
    onProgress: (event) => post({ type: 'progress', event }),
    onTick: (event) => post({ type: 'tick', event }),
    onEpoch: (event) => post({ type: 'epoch', event }),
    onCheckpoint: (event) => post({ type: 'checkpoint', event }),
    onWarning: (event) => post({ type: 'warning', event }),
    onLog: (line) => post({ type: 'log', line }),
    onProfile: (report) => post({ type: 'profile', report }),
    shouldStop: () => Atomics.load(stopFlag, 0) === 1,
    onPublish: publish ? publishUp : undefined,
  });
  post({ type: 'done', history: await history });
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  // The code (RunFolderError, Cifar10Error) and a RunFolderError's facts cross to the caller's thread too.
  const code = (err as { code?: unknown }).code;
  post({ type: 'error', name: err.name, message: err.message, stack: err.stack, code: typeof code === 'string' ? code : undefined,
    details: err instanceof RunFolderError ? err.details : undefined });
}

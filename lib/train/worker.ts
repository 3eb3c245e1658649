// Worker-thread entry of train(): runs the loop and posts its events to the parent.
import { parentPort, workerData } from 'node:worker_threads';
import type { TrainOptions } from './options.js';
import type { WorkerMessage } from './events.js';
import { runTraining } from './loop.js';

const { options, stopFlag } = workerData as { options: TrainOptions; stopFlag: Int32Array };
const post = (m: WorkerMessage) => parentPort!.postMessage(m);

try {
  const history = runTraining(options, {
    onInfo: (info) => post({ type: 'info', info }),
    onProgress: (event) => post({ type: 'progress', event }),
    onEpoch: (event) => post({ type: 'epoch', event }),
    onCheckpoint: (event) => post({ type: 'checkpoint', event }),
    onWarning: (event) => post({ type: 'warning', event }),
    onLog: (line) => post({ type: 'log', line }),
    shouldStop: () => Atomics.load(stopFlag, 0) === 1,
  });
  post({ type: 'done', history: await history });
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  post({ type: 'error', name: err.name, message: err.message, stack: err.stack });
}

// train() and runTraining() as the package and the CLI offer them: lib/train's, with publishRun() as the
// publisher, so that run.json and report.html are written next to the checkpoints after every epoch and
// at the end (option `report`). lib/train hands its snapshots up and imports nothing of the report; this
// floor, above it, wires the two together.
import { train as trainInWorker, type Publisher, type TrainInput, type TrainRun } from '../train/index.js';
import { runTraining as runLoop } from '../train/loop.js';
import type { TrainHistory, TrainHooks } from '../train/events.js';
import type { TrainOptions } from '../train/options.js';
import { publishRun } from './publish.js';

/** Trains in a worker thread, writing run.json and report.html (in this thread's child process); a
 *  `publish` of the caller's takes their place. */
export function train(input: TrainInput, opts: { signal?: AbortSignal; publish?: Publisher } = {}): TrainRun {
  return trainInWorker(input, { signal: opts.signal, publish: opts.publish ?? publishRun });
}

/** Trains in this thread, writing run.json and report.html; a `hooks.onPublish` of the caller's takes their place. */
export function runTraining(o: TrainOptions, hooks: TrainHooks = {}): Promise<TrainHistory> {
  return runLoop(o, { ...hooks, onPublish: hooks.onPublish ?? publishRun });
}

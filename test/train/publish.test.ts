// The loop hands the run so far up (hooks.onPublish; train()'s `publish` across the worker boundary)
// and writes no run.json or report.html of its own: lib/train imports nothing of lib/report
// (test/floors.test.ts), and lib/report's train() and runTraining() wire publishRun in
// (test/report/training.test.ts).
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { runTraining } from '../../lib/train/loop.js';
import { train } from '../../lib/train/index.js';
import { resolveTrainOptions, type TrainOptions } from '../../lib/train/options.js';
import type { RunSnapshot } from '../../lib/train/run-file.js';
import { tempDir } from '../data/fixtures.js';
import { writeLearnableDataset } from './fixtures.js';

const data = writeLearnableDataset(tempDir('publish'), 40);
const base = { data, backend: 'cpu', model: 'vgg11', widthDivisor: 16, batchNorm: true, optimizer: 'sgd', lr: 0.05, batchSize: 20, display: 2,
  seed: 4, threads: 1 } as const;
const opts = (over: Partial<TrainOptions>): TrainOptions => resolveTrainOptions({ ...base, out: tempDir('publish-run'), ...over });

/** What a snapshot says of itself, in the order the hook got them. */
const summary = (s: RunSnapshot) => ({ status: s.status, epochs: s.history.epochs.length, evaluated: s.evaluation?.epoch ?? null });
const REPORT_FILES = ['run.json', 'report.html', 'feature-maps.png', '.feature-maps.json'];

describe('hooks.onPublish (the loop in this thread)', () => {
  it('gets the run so far after each epoch but the last and at the end; lib/train writes no report of its own', async () => {
    const o = opts({ epochs: 3, saveEvery: 1 });
    const got: RunSnapshot[] = [];
    const h = await runTraining(o, { onPublish: (s) => { got.push(structuredClone(s)); } });
    expect(got.map(summary)).toEqual([
      { status: 'running', epochs: 1, evaluated: 1 },
      { status: 'running', epochs: 2, evaluated: 2 },
      { status: 'finished', epochs: 3, evaluated: 3 },
    ]);
    const last = got.at(-1)!;
    expect(last).toMatchObject({ out: o.out, runId: h.info.runId, dataDir: join(data, 'cifar-10-batches-bin'), options: { out: o.out, overwrite: false, epochs: 3 } });
    expect(last.history.epochs).toEqual(h.epochs);
    expect(last.history.checkpoints.map((c) => c.epoch)).toEqual([1, 2, 3]);
    expect(last.classes).toHaveLength(10);
    const ev = last.evaluation!;
    expect([ev.predictions.length, ev.labels.length]).toEqual([ev.count, ev.count]);
    expect(ev.accuracy).toBe(h.epochs[2].testAccuracy);
    expect(readdirSync(o.out).filter((f) => REPORT_FILES.includes(f))).toEqual([]);
  });

  it('is not called with report: false, and nothing is written for the report', async () => {
    const o = opts({ epochs: 2, report: false });
    let calls = 0;
    const h = await runTraining(o, { onPublish: () => { calls++; } });
    expect(h.epochs).toHaveLength(2);
    expect(calls).toBe(0);
    expect(readdirSync(o.out).filter((f) => REPORT_FILES.includes(f))).toEqual([]);
  });

  it('a publisher that fails: a warning naming the folder and the cause, and the run goes on to the end', async () => {
    const o = opts({ epochs: 2, evalEveryEpoch: false });
    const statuses: string[] = [];
    const warnings: string[] = [];
    const h = await runTraining(o, {
      onWarning: (w) => warnings.push(w.message),
      onPublish: async (s) => {
        statuses.push(s.status);
        if (s.status === 'running') throw new Error('disk full');
      },
    });
    expect(statuses).toEqual(['running', 'finished']);
    expect(h.epochs).toHaveLength(2);
    expect(warnings).toEqual([`could not write the report in ${o.out}: disk full`]);
    expect(h.warnings.map((w) => [w.kind, w.message])).toEqual([['other', warnings[0]]]);
  });
});

describe("train()'s publish (the loop in a worker thread)", () => {
  it("runs in the caller's thread with each snapshot; a rejection becomes a warning event and the run finishes", async () => {
    const seen: Array<ReturnType<typeof summary> & { thread: number; labels: number }> = [];
    const warnings: string[] = [];
    const run = train({ ...base, out: tempDir('publish-worker'), epochs: 2 }, {
      publish: async (s) => {
        seen.push({ ...summary(s), thread: threadId, labels: s.evaluation?.labels.length ?? -1 });
        if (s.status === 'running') throw new Error('no space left');
      },
    });
    run.on('warning', (w) => warnings.push(w.message));
    const h = await run;
    expect(seen).toEqual([
      { status: 'running', epochs: 1, evaluated: 1, thread: threadId, labels: 40 },
      { status: 'finished', epochs: 2, evaluated: 2, thread: threadId, labels: 40 },
    ]);
    expect(warnings).toEqual([`could not write the report in ${h.info.out}: no space left`]);
    expect(h.warnings.map((w) => w.message)).toEqual(warnings);
    expect(h.epochs).toHaveLength(2);
    expect(readdirSync(h.info.out).filter((f) => REPORT_FILES.includes(f))).toEqual([]);
  });

  it('publishes nothing with report: false, nor without a publisher', async () => {
    let calls = 0;
    const off = await train({ ...base, out: tempDir('publish-off'), epochs: 1, report: false }, { publish: () => { calls++; } });
    expect(calls).toBe(0);
    const none = await train({ ...base, out: tempDir('publish-none'), epochs: 1 });
    expect(none.warnings).toEqual([]);
    for (const h of [off, none]) expect(readdirSync(h.info.out).filter((f) => REPORT_FILES.includes(f))).toEqual([]);
  });
});

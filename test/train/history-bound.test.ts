// What a run keeps in memory is bounded whatever its length: history.steps holds at most
// MAX_STEP_RECORDS evenly spaced readings while the events and --log carry every one, run.json holds the
// same bounded series (a resumed run's predecessors' part thinned once, then stable), and report.html is
// drawn from it by a child process.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTraining } from '../../lib/report/training.js';
import { resolveTrainOptions } from '../../lib/train/options.js';
import { EvenlySpaced, MAX_STEP_RECORDS, thin } from '../../lib/train/series.js';
import { readRunRecord, runRecord, writeRunRecord, type RunSnapshot, type StepRecord } from '../../lib/train/run-file.js';
import type { ProgressEvent } from '../../lib/train/events.js';
import { tempDir } from '../data/fixtures.js';
import { writeLearnableDataset } from './fixtures.js';

/** Kept items are records at multiples of one stride, from record 0: evenly spaced. */
function expectEvenlySpaced(kept: number[]): number {
  expect(kept[0]).toBe(0);
  const stride = kept.length > 1 ? kept[1] - kept[0] : 1;
  kept.forEach((v, i) => expect(v).toBe(i * stride));
  return stride;
}

describe('EvenlySpaced and thin', () => {
  it('keep at most cap records, evenly spaced from the first, at every length of the stream', () => {
    const items: number[] = [];
    const s = new EvenlySpaced(items, 16);
    for (let n = 0; n < 5000; n++) {
      s.push(n);
      expect(items.length).toBeLessThan(16);
      const stride = expectEvenlySpaced(items);
      // nothing is dropped that a coarser stride would not drop: the newest kept is within one stride of the end
      expect(n - items.at(-1)!).toBeLessThan(stride);
      if (n >= 16) expect(items.length).toBeGreaterThanOrEqual(8);
    }
    expect(s.count).toBe(5000);
    expect(() => new EvenlySpaced([], 7)).toThrow(/cap must be an even integer >= 2, got 7/);
    expect(() => new EvenlySpaced([], 0)).toThrow(RangeError);
  });

  it('thin halves until within the cap, keeps the first, and is a no-op on a list within the cap', () => {
    const list = Array.from({ length: 2500 }, (_, i) => i);
    const t = thin(list, 1000);
    expect(t.length).toBeLessThanOrEqual(1000);
    expect(t.length).toBe(625);
    expectEvenlySpaced(t.map((v) => v));
    expect(thin(t, 1000)).toEqual(t);
    expect(thin([1, 2, 3], 1000)).toEqual([1, 2, 3]);
  });
});

const step = (n: number): StepRecord => ({ epoch: 1, step: n, loss: 2 - n / 1e4, accuracy: 0.1, lr: 0.01, imagesPerSecond: 100 });

describe('run.json of a resumed run', () => {
  it('keeps its predecessors\' series thinned to MAX_STEP_RECORDS, the same from one epoch to the next', () => {
    const out = tempDir('resumed-record');
    const snap = (startStep: number, steps: StepRecord[]): RunSnapshot => ({ out, runId: 'r1', status: 'running', startedAt: '2026-01-01T00:00:00Z', seconds: 1,
      options: {}, dataDir: out, classes: ['a'], evaluation: null,
      history: { info: { out, runId: 'r1', device: 'cpu', deviceDescription: 'cpu', parameters: 1, trainImages: 1, testImages: 0, startEpoch: 0, startStep },
        steps, epochs: [], checkpoints: [], warnings: [] } });
    // A first run of 3000 readings whose run.json (as an older version may have written it) holds them all.
    writeRunRecord(out, runRecord(snap(0, Array.from({ length: 3000 }, (_, i) => step(i + 1)))));
    // Resumed at step 2400: the readings after it are dropped, the rest thinned once.
    const mine = Array.from({ length: 900 }, (_, i) => step(2401 + i));
    const first = runRecord(snap(2400, mine));
    const before = first.steps.filter((s) => s.step <= 2400);
    expect(before.length).toBeLessThanOrEqual(MAX_STEP_RECORDS);
    expect(before.length).toBe(600);
    expect(before[0].step).toBe(1);
    expect(first.steps.slice(before.length)).toEqual(mine);
    writeRunRecord(out, first);
    // The next epoch's record reads that run.json back: the predecessors' part does not erode.
    const second = runRecord(snap(2400, [...mine, step(3301)]));
    expect(second.steps.filter((s) => s.step <= 2400)).toEqual(before);
    expect(second.steps.length).toBeLessThanOrEqual(2 * MAX_STEP_RECORDS);
  });
});

describe('a run with more readings than MAX_STEP_RECORDS', () => {
  it('keeps history.steps bounded and evenly spaced; events and --log carry every reading; run.json and the report hold the bounded series', async () => {
    const dir = tempDir('bounded-history');
    const data = writeLearnableDataset(join(dir, 'data'), 240);
    const log = join(dir, 'metrics.jsonl');
    // 600 steps per epoch, a reading every step: 1200 readings, 2 epochs (2 reports, drawn in a child process).
    const o = resolveTrainOptions({ data, out: join(dir, 'run'), backend: 'cpu', model: 'vgg11', widthDivisor: 16, batchNorm: true,
      optimizer: 'sgd', lr: 0.01, momentum: 0.9, batchSize: 2, epochs: 2, display: 1, evalEveryEpoch: false, saveEvery: 2, seed: 3, log, threads: 1 });
    const events: ProgressEvent[] = [];
    const h = await runTraining(o, { onProgress: (p) => events.push(p) });
    expect(events).toHaveLength(1200);
    expect(events.map((p) => p.step)).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
    expect(h.steps.length).toBeLessThanOrEqual(MAX_STEP_RECORDS);
    expect(h.steps.length).toBe(600);
    // every 2nd reading, from the first: steps 1, 3, 5, …
    expectEvenlySpaced(h.steps.map((p) => p.step - 1));
    expect(h.steps.map((p) => p.step).slice(0, 3)).toEqual([1, 3, 5]);
    const logged = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step?: number });
    expect(logged.filter((r) => r.kind === 'step').map((r) => r.step)).toEqual(events.map((p) => p.step));
    const r = readRunRecord(o.out);
    expect(r.status).toBe('finished');
    expect(r.steps.map((s) => s.step)).toEqual(h.steps.map((s) => s.step));
    const html = readFileSync(join(o.out, 'report.html'), 'utf8');
    expect(html).toMatch(new RegExp(`id="chart-loss-step" data-marks="${h.steps.length}"`));
    expect(existsSync(join(o.out, 'feature-maps.png'))).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { cpus, loadavg } from 'node:os';
import { train } from '../../lib/train/index.js';
import { TICK_MS, type ProgressEvent, type TickEvent } from '../../lib/train/events.js';
import { tempDir } from '../data/fixtures.js';
import { writeLearnableDataset } from './fixtures.js';

const data = writeLearnableDataset(tempDir('worker'), 100);
const base = { data, backend: 'cpu' as const, model: 'vgg11' as const, widthDivisor: 8, batchSize: 20, display: 2, seed: 5, report: false };

describe('train() in a worker thread', () => {
  it('resolves with the history, streams progress and checkpoint events, and keeps the event loop responsive', async () => {
    const out = tempDir('worker-run');
    const progress: ProgressEvent[] = [];
    const saved: string[] = [];
    // Event-loop delay while the worker trains: our code must never block the caller's thread. The
    // percentile, not the maximum, is asserted: on a shared 2-core machine the OS alone can deschedule
    // the main thread for tens of milliseconds (the maximum is printed).
    const elu0 = performance.eventLoopUtilization();
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const run = train({ ...base, out, epochs: 2 });
    const ticks: TickEvent[] = [];
    run.on('progress', (p) => progress.push(p));
    run.on('tick', (t) => ticks.push(t));
    run.on('checkpoint', (c) => saved.push(c.path));
    const h = await run;
    delay.disable();
    // Ticks: after the first step and each epoch's last, in between at most one per TICK_MS; trainSeconds
    // leaves the evaluations out.
    expect(ticks[0]).toMatchObject({ epoch: 1, step: 1, stepInEpoch: 1, stepsPerEpoch: 25 });
    expect(ticks.filter((t) => t.stepInEpoch === 25).map((t) => t.step)).toEqual([25, 50]);
    for (let i = 1; i < ticks.length; i++) {
      expect(ticks[i].step).toBeGreaterThan(ticks[i - 1].step);
      if (ticks[i].epoch === ticks[i - 1].epoch && ticks[i].stepInEpoch < 25) {
        expect(ticks[i].trainSeconds - ticks[i - 1].trainSeconds).toBeGreaterThanOrEqual(TICK_MS / 1000 - 1e-3);
      }
    }
    expect(ticks.at(-1)!.trainSeconds).toBeLessThanOrEqual(h.epochs.reduce((a, e) => a + e.seconds, 0) + 1e-6);
    expect(h.epochs).toHaveLength(2);
    expect(h.epochs[1].testAccuracy).not.toBeNull();
    expect(progress.length).toBeGreaterThan(4);
    expect(progress.at(-1)!.step).toBe(50);
    expect(progress.every((p) => Number.isFinite(p.loss) && p.imagesPerSecond > 0)).toBe(true);
    expect(saved).toHaveLength(1);
    expect(existsSync(saved[0])).toBe(true);
    const p99 = delay.percentile(99) / 1e6;
    const elu = performance.eventLoopUtilization(elu0);
    const load = loadavg()[0];
    console.log(`event loop while training: busy ${(100 * elu.utilization).toFixed(1)}% of the time, delay p99 ${p99.toFixed(1)} ms, ` +
      `max ${(delay.max / 1e6).toFixed(1)} ms (load average ${load.toFixed(1)} on ${cpus().length} cores)`);
    // Our main-thread work (receiving a few messages) must stay tiny whatever the machine does.
    expect(elu.utilization).toBeLessThan(0.1);
    if (load <= cpus().length + 0.5) expect(p99).toBeLessThan(50);
    else console.log('delay not asserted: other processes keep the cores busy, so the OS, not this code, decides the pauses');
  });

  it('stops on an AbortSignal after saving a checkpoint', async () => {
    const out = tempDir('worker-abort');
    const ac = new AbortController();
    const run = train({ ...base, out, epochs: 50 }, { signal: ac.signal });
    run.on('progress', (p) => { if (p.step >= 4) ac.abort(); });
    const h = await run;
    expect(h.aborted).toBe(true);
    expect(h.epochs.length).toBeLessThan(50);
    expect(h.checkpoints.at(-1)!.reason).toBe('abort');
    expect(existsSync(h.checkpoints.at(-1)!.path)).toBe(true);
  });

  it('refuses bad options up front, naming the option', () => {
    expect(() => train({ ...base, out: tempDir('x'), optimizer: 'rmsprop' as never })).toThrow(/option optimizer must be one of/);
  });

  it('rejects with the loop error (missing data folder named)', async () => {
    await expect(train({ ...base, data: '/nonexistent/cifar', out: tempDir('y') })).rejects.toThrow(/nonexistent/);
  });
});

describe('--resume options', () => {
  it('a resumed run keeps the options it was started with unless given again', async () => {
    const { withResumedOptions } = await import('../../lib/train/resume.js');
    const out = tempDir('resume-opts');
    const h = await train({ ...base, out, epochs: 1, optimizer: 'adagrad', lr: 0.02 });
    const ck = h.checkpoints.at(-1)!.path;
    const merged = withResumedOptions({ data, resume: ck, epochs: 3 });
    expect(merged).toMatchObject({ optimizer: 'adagrad', lr: 0.02, model: 'vgg11', widthDivisor: 8, epochs: 3, resume: ck });
    const h2 = await train({ data, resume: ck, epochs: 2 });
    expect(h2.info.startEpoch).toBe(1);
    expect(h2.epochs.map((e) => e.epoch)).toEqual([2]);
  });
});

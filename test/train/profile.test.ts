// `profile: true` in the training loop (--profile): one window after the warm-up, inside the first
// epoch, reported once through the hook, the history, the JSONL log and train()'s 'profile' event;
// off by default, with nothing left installed. And the options and flags that switch it on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { runTraining } from '../../lib/train/loop.js';
import { resolveTrainOptions, type TrainOptions } from '../../lib/train/options.js';
import { train } from '../../lib/train/index.js';
import type { ProfileReport } from '../../lib/train/events.js';
import { loadCheckpoint } from '../../lib/nn/checkpoint.js';
import { PROFILED_OPS } from '../../lib/profile/index.js';
import { flagsToInput, registerTrain, type TrainFlags } from '../../lib/cli/train.js';
import { tempDir } from '../data/fixtures.js';
import { writeLearnableDataset } from './fixtures.js';

const data = writeLearnableDataset(tempDir('profile'), 100);

function opts(over: Partial<TrainOptions>): TrainOptions {
  return resolveTrainOptions({ data, out: tempDir('profile-run'), backend: 'cpu', model: 'vgg11', widthDivisor: 8, batchNorm: true,
    optimizer: 'sgd', lr: 0.05, momentum: 0.9, batchSize: 20, epochs: 1, display: 3, seed: 3, report: false, evalEveryEpoch: false, ...over });
}

const calls = (r: ProfileReport, layer: string, op: string) => r.rows.find((x) => x.layer === layer && x.op === op)?.calls;

describe('training with the profiler', () => {
  it('profiles profileSteps steps after profileWarmup, reports once, and leaves no wrapper behind', async () => {
    const natives = Object.keys(PROFILED_OPS).map((k) => (native as unknown as Record<string, unknown>)[k]);
    const o = opts({ profile: true, profileSteps: 4, profileWarmup: 2, limit: 200, log: join(tempDir('profile-log'), 'm.jsonl') });
    const seen: ProfileReport[] = [];
    const h = await runTraining(o, { onProfile: (r) => seen.push(r) });
    expect(seen).toHaveLength(1);
    const r = h.profile!;
    expect(r).toBe(seen[0]);
    expect(r.steps).toBe(4);
    expect(r.device).toBe('cpu');
    for (const op of ['loadBatch', 'gatherLabels']) expect(calls(r, 'data', op), op).toBe(4);
    expect(calls(r, 'data', 'write (host to device)'), 'the indices and the augmentation seed of each batch').toBe(8);
    expect(calls(r, 'net.0 Conv2d(3,8)', 'forward')).toBe(4);
    expect(calls(r, 'net.0 Conv2d(3,8)', 'backward-filter')).toBe(4);
    expect(calls(r, 'optimizer', 'sgd update (multi-tensor)')).toBeGreaterThanOrEqual(4); // one per parameter group and step
    // steps 3..6 of the run: the loss is read every 3 steps (display), at steps 4 and 7 -> one read in the window
    expect(calls(r, 'loss', 'softmaxCrossEntropy')).toBe(4);
    expect(calls(r, 'host reads', 'toArray (device to host)')).toBeGreaterThan(0);
    expect(r.opsMs).toBeLessThanOrEqual(r.wallMs);
    Object.keys(PROFILED_OPS).forEach((k, i) => expect((native as unknown as Record<string, unknown>)[k], k).toBe(natives[i]));
    // the JSONL log has it; the checkpoint does not carry `profile` into a resumed run
    const lines = readFileSync(o.log!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; steps?: number });
    expect(lines.filter((l) => l.kind === 'profile').map((l) => l.steps)).toEqual([4]);
    const ck = loadCheckpoint(h.checkpoints.at(-1)!.path);
    expect((ck.extra.options as TrainOptions).profile).toBe(false);
  });

  it('stays inside the first epoch: a short epoch shrinks the window, then the warm-up', async () => {
    // 100 images, batch 20: 5 steps per epoch; warm-up 3 leaves 2 steps to measure
    const a = await runTraining(opts({ profile: true, profileSteps: 50, profileWarmup: 3, limit: 100, epochs: 2 }));
    expect(a.profile!.steps).toBe(2);
    expect(calls(a.profile!, 'data', 'loadBatch')).toBe(2);
    // 40 images: 2 steps per epoch; the warm-up of 5 shrinks to 1, and the second epoch is not profiled
    const seen: ProfileReport[] = [];
    const b = await runTraining(opts({ profile: true, profileSteps: 50, profileWarmup: 5, limit: 40, epochs: 2 }), { onProfile: (r) => seen.push(r) });
    expect(seen.map((r) => r.steps)).toEqual([1]);
    expect(b.epochs).toHaveLength(2);
  });

  it('is off by default', async () => {
    const h = await runTraining(opts({ limit: 40 }));
    expect(h.profile).toBeUndefined();
  });

  it("train() emits the report as a 'profile' event from its worker thread", async () => {
    const run = train({ ...opts({ profile: true, profileSteps: 2, profileWarmup: 1, limit: 60 }) });
    const events: ProfileReport[] = [];
    run.on('profile', (r) => events.push(r));
    const h = await run;
    expect(events).toHaveLength(1);
    expect(events[0].steps).toBe(2);
    expect(h.profile).toEqual(events[0]);
  });
});

describe('profiler options and flags', () => {
  it('defaults to off, 50 steps after 5, and names a bad value', () => {
    expect(resolveTrainOptions({ data: 'd' })).toMatchObject({ profile: false, profileSteps: 50, profileWarmup: 5 });
    expect(() => resolveTrainOptions({ data: 'd', profileSteps: 0 })).toThrow(/option profileSteps must be in \[1, 1000\]; got 0/);
    expect(() => resolveTrainOptions({ data: 'd', profileWarmup: 1.5 })).toThrow(/option profileWarmup must be an integer/);
    expect(() => resolveTrainOptions({ data: 'd', profile: 'yes' as never })).toThrow(/option profile must be true or false/);
  });

  it('--profile, --profile-steps and --profile-warmup reach the options', async () => {
    let got: TrainFlags | null = null;
    const program = new Command().exitOverride();
    registerTrain(program);
    const cmd = program.commands.find((c) => c.name() === 'train')!;
    cmd.action((f: TrainFlags) => { got = f; });
    await program.parseAsync(['node', 'vgg-cifar', 'train', '--data', 'd', '--profile', '--profile-steps', '7', '--profile-warmup', '0']);
    expect(resolveTrainOptions(flagsToInput(got!))).toMatchObject({ profile: true, profileSteps: 7, profileWarmup: 0 });
    await expect(program.parseAsync(['node', 'vgg-cifar', 'train', '--data', 'd', '--profile-steps', 'x'])).rejects.toThrow(/--profile-steps must be an integer/);
  });
});

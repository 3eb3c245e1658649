// A training run never writes over another run's files: a second run into a used folder is refused and
// the first run's files stay byte-identical (or --overwrite replaces them); without --out every run gets
// its own folder; a folder in use by a live run is refused, and the lock a SIGKILLed run leaves is taken
// over with a notice; train() and runTraining() refuse the same way, with a code; `report` only reads.
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { checkpointsIn, runCli, writeTinyDataset, type RunResult } from '../../bench/kill.js';
import { checkpointHeader } from '../../lib/nn/checkpoint.js';
import { readSafetensors, serializeSafetensors } from '../../lib/nn/safetensors.js';
import { readRunRecord, writeRunRecord } from '../../lib/train/run-file.js';
import { renderReport } from '../../lib/report/report.js';
import { train, type StartEvent } from '../../lib/train/index.js';
import { acquireLock, LOCK_FILE } from '../../lib/train/lock.js';
import { runTraining } from '../../lib/train/loop.js';
import { resolveTrainOptions } from '../../lib/train/options.js';
import { freshRunFolder } from '../../lib/train/run-folder.js';
import { RunFolderError } from '../../lib/train/run-folder-error.js';
import { tempDir } from '../data/fixtures.js';
import { deadPid, plantLock } from './fixtures.js';

const root = tempDir('run-folder');
const data = writeTinyDataset(join(root, 'data'), 16);
const tiny = ['--model', 'vgg11', '--width-divisor', '8', '--bn', '--optimizer', 'sgd', '--lr', '0.05', '--batch-size', '16', '--limit', '64',
  '--no-eval', '--threads', '1', '--no-progress'];
const cli = (extra: string[]) => ['train', '--data', data, ...tiny, ...extra];
const api = { data, backend: 'cpu', model: 'vgg11', widthDivisor: 8, batchNorm: true, optimizer: 'sgd', lr: 0.05, batchSize: 16, limit: 64,
  evalEveryEpoch: false, threads: 1, report: false } as const;

/** Every file of `dir`, hidden ones too, with its bytes. */
const snapshot = (dir: string) => new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));
const rejection = (p: PromiseLike<unknown>) => Promise.resolve(p).then(() => { throw new Error('not refused'); }, (e: unknown) => e as RunFolderError);

/** Starts a long CLI run; resolves with its pid once its stdout matches `ready`. */
function startRun(args: string[], ready: RegExp): { pid: Promise<number>; done: Promise<RunResult> } {
  let found: (pid: number) => void = () => {};
  const pid = new Promise<number>((resolve) => { found = resolve; });
  const done = runCli(args, undefined, {}, { onStdout: (s, p) => { if (ready.test(s)) found(p); } });
  return { pid, done };
}

describe('two runs into one folder, one after the other', () => {
  const out = join(root, 'models');
  let before = new Map<string, Buffer>();
  let firstId = '';

  it("the second is refused before training, naming the files and the ways out; the first run's files stay byte-identical", async () => {
    const first = await runCli(cli(['--out', out, '--epochs', '2', '--save-every', '1', '--seed', '1']));
    expect(first.code, first.stderr).toBe(0);
    before = snapshot(out);
    expect([...before.keys()]).toEqual(expect.arrayContaining(['cifar10_epoch_1.safetensors', 'cifar10_epoch_2.safetensors', 'run.json', 'report.html']));
    expect(before.has(LOCK_FILE)).toBe(false); // released at the end
    firstId = readRunRecord(out).runId!;
    expect(first.stdout).toContain(`vgg-cifar: run ${firstId} in ${out}\n`);
    expect(checkpointHeader(join(out, 'cifar10_epoch_2.safetensors')).runId).toBe(firstId);

    const second = await runCli(cli(['--out', out, '--epochs', '1', '--seed', '2']));
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`vgg-cifar: ${out} already holds another training run's files:\n`);
    expect(second.stderr).toContain(`  cifar10_epoch_2.safetensors (run ${firstId}, epoch 2, step 8)\n`);
    expect(second.stderr).toContain(`  run.json (run ${firstId}, finished, 2 epochs)\n`);
    expect(second.stderr).toMatch(/continue that run: +--resume \S+models\/cifar10_epoch_2\.safetensors\n/);
    expect(second.stderr).toMatch(/write this run elsewhere: +--out <new folder>/);
    expect(second.stderr).toMatch(/replace them: +--overwrite/);
    expect(second.stdout).not.toMatch(/training vgg11|^epoch \d|^saved/m);
    expect(snapshot(out)).toEqual(before);
  });

  it("--overwrite replaces them: none of the first run's files is left beside the second run's", async () => {
    const second = await runCli(cli(['--out', out, '--epochs', '1', '--seed', '2', '--overwrite']));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/^vgg-cifar: --overwrite: removed from \S+models: .*cifar10_epoch_2\.safetensors/m);
    const after = snapshot(out);
    expect(after.has('cifar10_epoch_2.safetensors')).toBe(false);
    expect(after.get('cifar10_epoch_1.safetensors')!.equals(before.get('cifar10_epoch_1.safetensors')!)).toBe(false);
    const r = readRunRecord(out);
    expect(r.runId).not.toBe(firstId);
    expect(r.epochs).toHaveLength(1);
    expect(checkpointHeader(join(out, 'cifar10_epoch_1.safetensors')).runId).toBe(r.runId);
  });
});

describe('without --out', () => {
  it('two runs started at the same moment get two fresh folders under runs/, and runs/latest points at one of them', async () => {
    const cwd = join(root, 'cwd');
    mkdirSync(cwd);
    const runs = await Promise.all([0, 1].map(() => runCli(cli(['--epochs', '1', '--no-report']), undefined, {}, { cwd })));
    const folders = runs.map((r) => {
      expect(r.code, r.stderr).toBe(0);
      const [, id, folder] = /^vgg-cifar: run (\S+) in (\S+)$/m.exec(r.stdout)!;
      expect(folder).toMatch(/^runs\/\d{8}-\d{6}-vgg11-bn(-\d+)?$/);
      expect(r.saved).toEqual([join(folder, 'cifar10_epoch_1.safetensors')]);
      expect(checkpointHeader(join(cwd, r.saved[0])).runId).toBe(id);
      return basename(folder);
    });
    expect(folders[0]).not.toBe(folders[1]);
    expect(readdirSync(join(cwd, 'runs')).sort()).toEqual([...folders, 'latest'].sort());
    expect(folders).toContain(readlinkSync(join(cwd, 'runs', 'latest')));
  });

  it('two folders made in the same second get distinct names', () => {
    const dir = tempDir('runs');
    const now = new Date(2026, 0, 5, 14, 30, 12);
    expect(freshRunFolder(dir, 'vgg16', now)).toBe(join(dir, '20260105-143012-vgg16'));
    expect(freshRunFolder(dir, 'vgg16', now)).toBe(join(dir, '20260105-143012-vgg16-2'));
  });
});

describe('two runs into one folder at the same time', () => {
  it('the second (CLI or train()) is refused while the first is alive; after SIGKILL a new run takes over the lock with a notice', async () => {
    const out = join(root, 'busy');
    const first = startRun(cli(['--out', out, '--epochs', '100000', '--save-every', '100000', '--no-report']), /^vgg-cifar: training/m);
    const pid = await first.pid;
    const second = await runCli(cli(['--out', out, '--epochs', '1']));
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`vgg-cifar: ${out} is in use by another training run: process ${pid} on ${hostname()} (run `);
    expect(second.stderr).toMatch(/command: \S+main\.js train --data .* --out \S+busy .*\)\. Wait for it to finish or stop it, or pick another --out/);
    const e = await rejection(train({ ...api, out, epochs: 1 }));
    expect(e).toBeInstanceOf(RunFolderError);
    expect(e.code).toBe('run-in-progress');
    expect(e.holder?.pid).toBe(pid);
    expect(readdirSync(out)).toEqual([LOCK_FILE]); // nothing written by the refused runs
    process.kill(pid, 'SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    expect(readdirSync(out)).toEqual([LOCK_FILE]);

    const next = await runCli(cli(['--out', out, '--epochs', '1', '--no-report']));
    expect(next.code, next.stderr).toBe(0);
    const notice = new RegExp(`^vgg-cifar: taking over \\S+busy/run\\.lock: it was left by a process that no longer runs, process ${pid} on `, 'm');
    expect(next.stderr).toMatch(notice);
    expect(next.stderr.split('\n').filter((l) => l.includes('taking over'))).toHaveLength(1);
    expect(readdirSync(out)).toEqual(['cifar10_epoch_1.safetensors']);
  });

  it('--resume after a SIGKILL continues the same run in its folder, taking over the stale lock', async () => {
    const out = join(root, 'killed');
    const first = startRun(cli(['--out', out, '--epochs', '100000', '--save-every', '1', '--no-report']), /^saved /m);
    const pid = await first.pid;
    process.kill(pid, 'SIGKILL');
    await first.done;
    const newest = checkpointsIn(out).at(-1)!;
    const id = checkpointHeader(newest.path).runId!;
    expect(existsSync(join(out, LOCK_FILE))).toBe(true);
    const resumed = await runCli(['train', '--data', data, '--resume', newest.path, '--epochs', String(newest.epoch + 1), '--no-progress']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`^vgg-cifar: taking over \\S+killed/run\\.lock: it was left by a process that no longer runs, process ${pid} `, 'm'));
    expect(resumed.stdout).toContain(`vgg-cifar: run ${id} in ${out}\n`);
    expect(checkpointHeader(join(out, `cifar10_epoch_${newest.epoch + 1}.safetensors`)).runId).toBe(id);
    expect(readRunRecord(out).runId).toBe(id);
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  });
});

describe('train() and runTraining()', () => {
  it("refuse another run's folder, checkpoints past the resume point and a resume into another run's folder, with codes; overwrite replaces", async () => {
    const a = join(root, 'api-a');
    const b = join(root, 'api-b');
    const ha = await train({ ...api, out: a, epochs: 2, saveEvery: 1, seed: 1 });
    expect(ha.info.out).toBe(a);
    const before = snapshot(a);

    const again = await rejection(train({ ...api, out: a, epochs: 1, seed: 2 }));
    expect(again).toBeInstanceOf(RunFolderError);
    expect(again).toMatchObject({ code: 'out-holds-another-run', folder: a, files: ['cifar10_epoch_1.safetensors', 'cifar10_epoch_2.safetensors'] });
    await expect(runTraining(resolveTrainOptions({ ...api, out: a, epochs: 1 }))).rejects.toMatchObject({ code: 'out-holds-another-run' });

    const early = await rejection(train({ data, resume: join(a, 'cifar10_epoch_1.safetensors'), epochs: 3 }));
    expect(early).toMatchObject({ code: 'out-holds-later-checkpoints', files: ['cifar10_epoch_2.safetensors'] });
    expect(early.message).toMatch(/resume from the newest: +--resume \S+api-a\/cifar10_epoch_2\.safetensors/);
    expect(snapshot(a)).toEqual(before);

    const hb = await train({ ...api, out: b, epochs: 1, seed: 3 });
    const into = await rejection(train({ data, resume: join(a, 'cifar10_epoch_2.safetensors'), out: b, epochs: 3 }));
    expect(into).toMatchObject({ code: 'out-holds-another-run', folder: b, files: ['cifar10_epoch_1.safetensors'] });
    expect(into.message).toContain(`holds files of another run than the one resumed from ${join(a, 'cifar10_epoch_2.safetensors')} (run ${ha.info.runId})`);

    // Resuming from the newest continues run a, in a's folder.
    const h = await train({ data, resume: join(a, 'cifar10_epoch_2.safetensors'), epochs: 3 });
    expect(h.info).toMatchObject({ out: a, runId: ha.info.runId, startEpoch: 2 });
    expect(checkpointHeader(join(a, 'cifar10_epoch_3.safetensors')).runId).toBe(ha.info.runId);

    const ho = await train({ ...api, out: b, epochs: 1, seed: 4, overwrite: true });
    expect(ho.info.runId).not.toBe(hb.info.runId);
    expect(checkpointHeader(join(b, 'cifar10_epoch_1.safetensors')).runId).toBe(ho.info.runId);
    expect(readdirSync(b)).toEqual(['cifar10_epoch_1.safetensors']);
  });

  it('a folder from before run ids: a new run is refused; a resume goes on there, and so does the next one', async () => {
    const dir = join(root, 'legacy');
    await runTraining(resolveTrainOptions({ ...api, out: dir, epochs: 2, saveEvery: 1 }));
    for (const f of ['cifar10_epoch_1.safetensors', 'cifar10_epoch_2.safetensors']) {
      const file = readSafetensors(join(dir, f));
      delete file.metadata['vgg_cifar.run_id'];
      writeFileSync(join(dir, f), serializeSafetensors(file.tensors, file.metadata));
    }
    expect(checkpointHeader(join(dir, 'cifar10_epoch_2.safetensors')).runId).toBeNull();
    const fresh = await rejection(runTraining(resolveTrainOptions({ ...api, out: dir, epochs: 1 })));
    expect(fresh.code).toBe('out-holds-another-run');
    expect(fresh.message).toContain('cifar10_epoch_2.safetensors (no run id, epoch 2, step 8)');
    const h = await runTraining(resolveTrainOptions({ ...api, resume: join(dir, 'cifar10_epoch_2.safetensors'), epochs: 3 }));
    expect(h.info.out).toBe(dir);
    expect(checkpointHeader(join(dir, 'cifar10_epoch_3.safetensors')).runId).toBe(h.info.runId);
    const next = await runTraining(resolveTrainOptions({ ...api, resume: join(dir, 'cifar10_epoch_3.safetensors'), epochs: 4 }));
    expect(next.info.runId).toBe(h.info.runId);
  });

  it('without out: a fresh folder under runsDir, announced by the start event; a run that fails before writing leaves none', async () => {
    const runsDir = join(root, 'api-runs');
    const run = train({ ...api, runsDir, epochs: 1 });
    const starts: StartEvent[] = [];
    run.on('start', (s) => starts.push(s));
    const h = await run;
    expect(starts).toEqual([{ out: h.info.out, runId: h.info.runId, lockFile: join(h.info.out, LOCK_FILE), notices: [] }]);
    expect([run.out, run.runId]).toEqual([h.info.out, h.info.runId]);
    expect(dirname(h.info.out)).toBe(runsDir);
    expect(readlinkSync(join(runsDir, 'latest'))).toBe(basename(h.info.out));
    await expect(train({ ...api, data: join(root, 'nowhere'), runsDir, epochs: 1 })).rejects.toThrow(/nowhere/);
    expect(readdirSync(runsDir).sort()).toEqual([basename(h.info.out), 'latest'].sort());
    expect(readlinkSync(join(runsDir, 'latest'))).toBe(basename(h.info.out));
  });
});

describe('vgg-cifar report', () => {
  it("only reads: no lock taken, run.json and checkpoints untouched; a killed run is said to be stopped; another run's checkpoint is not drawn", async () => {
    const dir = join(root, 'report');
    cpSync(join(root, 'models'), dir, { recursive: true });
    const record = readRunRecord(dir);
    // As if the folder had been moved here: its record names the checkpoints here, and the run was killed.
    writeRunRecord(dir, { ...record, status: 'running', checkpoints: record.checkpoints.map((c) => ({ ...c, path: join(dir, basename(c.path)) })) });
    const lock = plantLock(dir, { pid: deadPid(), runId: record.runId });
    const kept = () => [...snapshot(dir)].filter(([f]) => !['report.html', 'feature-maps.png', '.feature-maps.json'].includes(f));
    const before = kept();
    const stopped = await renderReport(dir);
    expect(stopped.notes.join('\n')).toMatch(/run\.json says 'running', but no live process holds \S+run\.lock: the run was stopped/);
    expect(readFileSync(stopped.path, 'utf8')).not.toContain('http-equiv="refresh"');
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(lock);
    expect(kept()).toEqual(before);

    // While a live run holds the folder: no such note, and the page reloads itself.
    writeFileSync(join(dir, LOCK_FILE), '');
    const held = acquireLock(join(root, 'report'), 'live');
    expect(held.notice).toMatch(/unreadable/);
    const live = await renderReport(dir);
    expect(live.notes.join('\n')).not.toMatch(/the run was stopped/);
    expect(readFileSync(live.path, 'utf8')).toContain('http-equiv="refresh"');
    held.lock.release();

    // A checkpoint of another run under this run's checkpoint name is not drawn.
    copyFileSync(join(root, 'api-b', 'cifar10_epoch_1.safetensors'), join(dir, 'cifar10_epoch_1.safetensors'));
    const foreign = await renderReport(dir);
    expect(foreign.notes.join('\n')).toMatch(/feature maps: \S+cifar10_epoch_1\.safetensors is not a checkpoint of this run/);
  });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

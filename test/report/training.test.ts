// The package's train() and runTraining() (lib/report/training.ts): lib/train's, with publishRun wired
// into the snapshots the loop hands up, so run.json and report.html are written as before the loop
// stopped importing the report. The CLI's runs are checked in test/train/run-folder.test.ts.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { train, runTraining } from '../../lib/report/training.js';
import * as api from '../../lib/index.js';
import { resolveTrainOptions } from '../../lib/train/options.js';
import { readRunRecord } from '../../lib/train/run-file.js';
import { tempDir } from '../data/fixtures.js';
import { writeLearnableDataset } from '../train/fixtures.js';

const data = writeLearnableDataset(tempDir('training'), 40);
const base = { data, backend: 'cpu', model: 'vgg11', widthDivisor: 16, batchNorm: true, optimizer: 'sgd', lr: 0.05, batchSize: 20, display: 2,
  seed: 4, threads: 1, epochs: 2 } as const;

describe("the package's train() and runTraining()", () => {
  it('are these (lib/index.ts)', () => {
    expect(api.train).toBe(train);
    expect(api.runTraining).toBe(runTraining);
  });

  it('train() writes run.json and report.html (finished, every epoch, the last evaluation); report: false writes neither', async () => {
    const warnings: string[] = [];
    const run = train({ ...base, out: tempDir('training-worker') });
    run.on('warning', (w) => warnings.push(w.message));
    const h = await run;
    expect(warnings).toEqual([]);
    const r = readRunRecord(h.info.out);
    expect(r).toMatchObject({ status: 'finished', runId: h.info.runId, evaluation: { epoch: 2, count: 40 } });
    expect(r.epochs).toEqual(h.epochs);
    expect(readFileSync(join(h.info.out, 'report.html'), 'utf8')).toMatch(/<title>vgg-cifar report: vgg11 finished<\/title>/);

    const off = await train({ ...base, out: tempDir('training-off'), report: false });
    expect(readdirSync(off.info.out).filter((f) => f === 'run.json' || f === 'report.html')).toEqual([]);
  });

  it("runTraining() writes them too; a caller's onPublish takes publishRun's place", async () => {
    const o = resolveTrainOptions({ ...base, out: tempDir('training-thread') });
    const h = await runTraining(o);
    expect(readRunRecord(o.out)).toMatchObject({ status: 'finished', runId: h.info.runId });
    expect(existsSync(join(o.out, 'report.html'))).toBe(true);

    const own = resolveTrainOptions({ ...base, out: tempDir('training-own') });
    const statuses: string[] = [];
    await runTraining(own, { onPublish: (s) => { statuses.push(s.status); } });
    expect(statuses).toEqual(['running', 'finished']);
    expect(readdirSync(own.out).filter((f) => f === 'run.json' || f === 'report.html')).toEqual([]);
  });
});

// The GPU smoke run of `npm run test:gpu`: VGG16 with BatchNorm, a few hundred steps on a real
// 10,000-image subset of CIFAR-10, well above chance (10%) on 2,000 test images, in under 3 minutes on
// one H100, in fp32 and in bf16 mixed precision. Needs the CIFAR-10 binary folder: VGG_CIFAR_DATA, or .gpu/data (../shared/gpu/run.sh --data).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { packageRoot } from '../../lib/backend.js';
import { describeGpu, emulated, gpu } from './parity.js';

const data = [process.env.VGG_CIFAR_DATA, join(packageRoot(), '.gpu', 'data')].find(
  (d) => d && existsSync(join(d, 'cifar-10-batches-bin', 'test_batch.bin')));

describeGpu('cuda smoke run', () => {
  // The emulator would take hours over VGG16 on 10,000 images: graph-train.test.ts trains a small model there.
  it.skipIf(gpu === 'cpu' || emulated).each(['fp32', 'bf16'] as const)('trains VGG16-BN on 10,000 images to well above chance in under 3 minutes (%s)', async (precision) => {
    expect(data, 'CIFAR-10 binaries: set VGG_CIFAR_DATA or pack with --data').toBeDefined();
    const { TrainRun } = await import('../../lib/train/index.js');
    const run = new TrainRun({
      data: data!, recipe: 'fast', backend: 'cuda', model: 'vgg16', batchNorm: true, epochs: 4, batchSize: 128,
      limit: 10_000, testLimit: 2_000, evalEveryEpoch: true, display: 50, saveEvery: 1000, out: join(packageRoot(), '.gpu', `smoke-run-${precision}`),
      overwrite: true, // each smoke run replaces the previous one's files
      precision,
    });
    const history = await run;
    const last = history.epochs[history.epochs.length - 1];
    console.log(`smoke (${precision}): ${history.info.deviceDescription}; ${history.steps.length} progress events, ${history.seconds.toFixed(1)} s, ` +
      `test accuracy ${last.testAccuracy}, ${last.imagesPerSecond.toFixed(0)} images/s`);
    expect(history.info.device).toBe('cuda');
    expect(history.stoppedOnNonFinite).toBe(false);
    expect(last.testAccuracy).toBeGreaterThan(0.3);  // chance is 0.10
    expect(history.seconds).toBeLessThan(180);
  }, 600_000);
});

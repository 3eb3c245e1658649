// One training run of a recipe with vgg-cifar, in its own process (so no run inherits another's warm
// caches): `node dist/bench/recipes/run-ours.js '<resolved TrainOptions as JSON>'`. Prints protocol.ts
// lines: every epoch's cumulative training time (the loop's EpochEvent.seconds excludes the test
// evaluation) and test accuracy, then the final model's accuracy without and with flip TTA.
import { join } from 'node:path';
import { backends, resolveDevice } from '../../lib/backend.js';
import { runTraining } from '../../lib/report/training.js';
import { resolveTrainOptions, type TrainOptions } from '../../lib/train/options.js';
import { evaluate } from '../../lib/train/evaluate-api.js';
import type { RunLine, TtaName } from './protocol.js';

const say = (l: RunLine) => process.stdout.write(JSON.stringify(l) + '\n');

async function main(): Promise<void> {
  const o = resolveTrainOptions(JSON.parse(process.argv[2] ?? '{}') as TrainOptions);
  const device = resolveDevice(o.backend);
  say({ kind: 'start', impl: 'vgg-cifar', device: backends().find((b) => b.device === device)?.description ?? device, options: { ...o } });
  let trainSeconds = 0;
  const h = await runTraining(o, {
    onEpoch: (e) => {
      trainSeconds += e.seconds;
      if (e.testAccuracy !== null) say({ kind: 'epoch', epoch: e.epoch, trainSeconds, testAccuracy: e.testAccuracy, tta: e.testTta ?? 'none' });
    },
    onWarning: (w) => process.stderr.write(`warning: ${w.message}\n`),
  });
  const last = h.epochs.at(-1);
  const ck = h.checkpoints.at(-1)?.path ?? join(h.info.out, `cifar10_epoch_${o.epochs}.safetensors`);
  const accuracy = {} as Record<TtaName, number>;
  for (const tta of ['none', 'flip'] as const) {
    accuracy[tta] = last?.testTta === tta && last.testAccuracy !== null ? last.testAccuracy
      : (await evaluate({ checkpoint: ck, data: o.data, backend: o.backend, precision: o.precision, limit: o.testLimit, tta })).accuracy;
  }
  say({ kind: 'final', accuracy });
}

main().catch((e: Error) => {
  say({ kind: 'error', message: e.message });
  process.exitCode = 1;
});

// vgg-cifar side of the framework benchmarks: one training step (forward, loss, backward, Adam update)
// or one inference batch of VGG16 (the report's, or with BatchNorm), timed with tinybench; on the GPU
// optionally replayed as a CUDA graph (graphs 'on').
// VGG_CIFAR_PROFILE=1: after the timed rounds, as many more steps run under the profiler (lib/profile),
// and its table goes to stderr (stdout stays the benchmark's table or JSON); the timed rounds are not profiled.
import { Bench } from 'tinybench';
import { backends, native, type Device } from '../lib/backend.js';
import type { Module } from '../lib/nn/module.js';
import { vgg } from '../lib/models/vgg.js';
import { initialize } from '../lib/nn/init.js';
import { SoftmaxCrossEntropyLoss } from '../lib/nn/loss.js';
import { createOptimizer } from '../lib/optim/create.js';
import { Profiler, formatProfile } from '../lib/profile/index.js';
import { StepGraphs, type GraphSetting } from '../lib/step-graphs.js';

/** Median of per-step times (the lower middle for an even count; NaN when empty). */
export const median = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };

export interface StepTiming { times: number[]; error?: string; /** Why the step did not replay as a CUDA graph when asked to. */ graphsNote?: string }

export async function benchVggCifar(device: Device, mode: 'train' | 'infer', batch: number, bn: boolean, warmup: number, rounds: number,
  precision: 'fp32' | 'bf16' = 'fp32', graphs: GraphSetting = 'off'): Promise<StepTiming> {
  const model = vgg({ depth: 16, batchNorm: bn });
  model.setPrecision(precision);
  initialize(model, { scheme: 'xavier_uniform', seed: 0 });
  const logitsShape = model.build(device, [batch, 3, 32, 32]);
  const x = native.fromArray(device, [batch, 3, 32, 32], Float32Array.from({ length: batch * 3072 }, (_, i) => ((i * 2654435761) % 1000) / 1000));
  const y = native.fromArray(device, [batch], Int32Array.from({ length: batch }, (_, i) => i % 10));
  const loss = new SoftmaxCrossEntropyLoss();
  loss.build(device, logitsShape);
  const opt = createOptimizer(model.parameters(), { kind: 'adam', lr: 1e-3 });
  const sync = native.empty(device, [1], 'float32');
  // As the training loop runs a step: host work first, then the device work a CUDA graph may replay.
  const runner = new StepGraphs({ device, graphs });
  const rearm = () => {
    model.rearmStep();
    loss.rearmStep();
  };
  const step = () => {
    if (mode === 'train') {
      model.train();
      model.prepareStep();
      loss.prepareStep(batch);
      opt.prepareStep();
      runner.run('train', () => {
        model.backward(loss.forward(model.forward(x), y)!);
        opt.applyStep();
      }, rearm);
    } else {
      model.eval();
      runner.run('infer', () => native.sumSquares(model.forward(x), sync, false));
    }
    if (device !== 'cpu') native.toArray(sync); // one scalar read: waits for the device
  };
  const bench = new Bench({ iterations: rounds, time: 0, warmupIterations: warmup, warmupTime: 0, retainSamples: true, throws: true });
  bench.add('step', step);
  try {
    await bench.run();
    const r = bench.tasks[0].result as unknown as { latency?: { samples?: number[] } };
    // The profiler times each op call, which a replayed graph makes none of: eager rows only.
    if (process.env.VGG_CIFAR_PROFILE === '1' && !runner.enabled) profileSteps(device, model, step, rounds, `${mode} vgg16${bn ? '-bn' : ''} batch ${batch} ${precision}`);
    const failed = Object.values(runner.stats.failed);
    const graphsNote = graphs === 'on' ? (runner.offReason ?? (failed.length ? `ran eagerly: ${failed[0]}` : undefined)) : undefined;
    return { times: (r.latency?.samples ?? []).map((ms) => ms / 1000), ...(graphsNote ? { graphsNote } : {}) };
  } catch (e) {
    return { times: [], error: (e as Error).message };
  } finally {
    runner.dispose();
    loss.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
    sync.dispose();
  }
}

/** Runs `steps` more steps under the profiler and prints its table to stderr; a failure is printed, not
 *  thrown, so the timed rounds are still reported. */
function profileSteps(device: Device, model: Module, step: () => void, steps: number, what: string): void {
  const tf32 = device === 'cuda' && what.endsWith('fp32') && backends().find((b) => b.device === 'cuda')?.details.tf32 === 'on';
  const p = new Profiler(device, model);
  try {
    p.start();
    for (let i = 0; i < steps; i++) {
      step();
      p.step();
    }
    process.stderr.write(`\nvgg-cifar ${device} ${what}${tf32 ? ' (tf32)' : ''}:\n${formatProfile(p.stop())}\n`);
  } catch (e) {
    p.cancel();
    process.stderr.write(`\nvgg-cifar ${device} ${what}: profiling failed: ${(e as Error).message}\n`);
  }
}

// The profiler on the GPU (`npm run test:gpu`): the timing events themselves (indices from 0 per window,
// times from 0 that never go back, the pool reused), and a profiled VGG16-BN training window whose op
// times (CUDA events) are all positive, fit one after another inside the device's span, and add up to a
// reasonable part of the host's wall time. Prints the table, so the GPU run's log shows where a step goes.
// VGG_CIFAR_GPU_TESTS_ON_CPU=1 runs the window on the CPU (host clock, a narrow VGG) to check the test.
import { expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { vgg } from '../../lib/models/vgg.js';
import { initialize } from '../../lib/nn/init.js';
import { SoftmaxCrossEntropyLoss } from '../../lib/nn/loss.js';
import { createOptimizer } from '../../lib/optim/create.js';
import { Profiler, formatProfile } from '../../lib/profile/index.js';
import { describeGpu, emulated, gpu } from './parity.js';

describeGpu('profiler on the GPU', () => {
  it.skipIf(gpu === 'cpu')('timing events: indices from 0 in each window, times from 0 that never decrease, one wait', () => {
    const t = native.empty('cuda', [emulated ? 1 << 20 : 1 << 24], 'float32');
    try {
      native.timingRead('cuda'); // forget marks another test may have left
      for (let w = 0; w < 3; w++) {
        expect(native.timingMark('cuda')).toBe(0);
        for (let i = 0; i < 20; i++) {
          native.fill(t, i);
          expect(native.timingMark('cuda')).toBe(i + 1);
        }
        const times = native.timingRead('cuda');
        expect(times).toBeInstanceOf(Float64Array);
        expect(times).toHaveLength(21);
        expect(times[0]).toBe(0);
        for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]); // each fill of 64 MiB (4 MiB emulated) takes time
        expect(times[20]).toBeLessThan(1000);
      }
      expect(native.timingRead('cuda')).toHaveLength(0);
    } finally {
      t.dispose();
    }
  });

  it.each(['fp32', 'bf16'] as const)('times every op of a VGG16-BN window with CUDA events, within the step\'s wall time (%s)', (precision) => {
    const onGpu = gpu === 'cuda';
    const full = onGpu && !emulated;  // the emulator runs the CPU's size
    const batch = full ? 256 : 16;
    const model = vgg({ depth: 16, batchNorm: true, widthDivisor: full ? 1 : 8 }).setPrecision(precision);
    initialize(model, { scheme: 'kaiming_normal', mode: 'fan_out', seed: 1 });
    model.build(gpu, [batch, 3, 32, 32]);
    const x = native.fromArray(gpu, [batch, 3, 32, 32], Float32Array.from({ length: batch * 3072 }, (_, i) => ((i * 2654435761) % 1000) / 1000));
    const y = native.fromArray(gpu, [batch], Int32Array.from({ length: batch }, (_, i) => i % 10), 'int32');
    const loss = new SoftmaxCrossEntropyLoss();
    const opt = createOptimizer(model.parameters(), { kind: 'sgd', lr: 0.01, momentum: 0.9 });
    const step = () => {
      const logits = model.forward(x);
      loss.build(gpu, logits.shape);
      model.backward(loss.forward(logits, y)!);
      opt.step();
    };
    try {
      for (let i = 0; i < 3; i++) step(); // algorithms found, caches filled
      const p = new Profiler(gpu, model);
      p.start();
      for (let i = 0; i < 5; i++) {
        step();
        p.step();
      }
      const r = p.stop();
      console.log(`profiler (${precision}, batch ${batch}):\n${formatProfile(r)}`);
      expect(r.timing).toBe(onGpu ? 'CUDA events' : 'host wall time');
      expect(r.steps).toBe(5);
      for (const row of r.rows) {
        if (onGpu) expect(row.totalMs, `${row.layer} ${row.op}`).toBeGreaterThan(0);
        else expect(row.totalMs, `${row.layer} ${row.op}`).toBeGreaterThanOrEqual(0);
      }
      expect(r.rows.filter((row) => row.op === 'forward' && row.layer.includes('Conv2d('))).toHaveLength(13);
      for (const k of ['conv forward', 'conv backward-data', 'conv backward-filter']) {
        const kind = r.kinds.find((row) => row.op === k)!;
        expect(kind.tflops, k).toBeGreaterThan(0);
        expect(kind.tflops, k).toBeLessThan(2000); // above any card's dense peak: the times would be wrong
      }
      // ops on one stream run one after another inside the span of the window's marks, which lies inside
      // the host's wall time (from after one synchronization to after the other)
      expect(r.opsMs).toBeLessThanOrEqual(r.spanMs * 1.001 + 0.01);
      expect(r.spanMs).toBeLessThanOrEqual(r.wallMs * 1.001 + 0.05);
      expect(r.spanMs).toBeGreaterThan(0.8 * r.wallMs);
      expect(r.opsMs).toBeGreaterThan(0.25 * r.wallMs);
    } finally {
      loss.dispose();
      model.dispose();
      x.dispose();
      y.dispose();
    }
  }, 300_000);
});

// The profiler on the CPU: what it wraps and that it takes every wrapper down again, attribution of
// each native call to its layer and op, the FLOP counts behind TFLOP/s (with a clock that ticks 1 ms
// per mark, so every call takes exactly 1 ms), the table, and the timing functions' errors.
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { vgg, type Vgg } from '../../lib/models/vgg.js';
import { initialize } from '../../lib/nn/init.js';
import { SoftmaxCrossEntropyLoss } from '../../lib/nn/loss.js';
import { Conv2d } from '../../lib/nn/conv.js';
import { Linear } from '../../lib/nn/linear.js';
import { createOptimizer } from '../../lib/optim/create.js';
import { fromFloat32, fromInt32 } from '../../lib/tensor.js';
import { Profiler, formatProfile, PROFILED_OPS, UNPROFILED, type ProfileReport } from '../../lib/profile/index.js';
import type { Clock } from '../../lib/profile/clock.js';
import { cudaUnavailableReason } from '../helpers/check.js';
import { rand, randInt } from '../helpers/check.js';

/** A clock whose marks are 1 ms apart: each call's time is exactly 1 ms. */
class TickClock implements Clock {
  readonly source = 'ticks';
  private n = 0;
  mark(): number { return this.n++; }
  read(): Float64Array { const t = Float64Array.from({ length: this.n }, (_, i) => i); this.n = 0; return t; }
}

const N = 4;
const live: Array<{ dispose(): void }> = [];
afterEach(() => { live.splice(0).forEach((t) => t.dispose()); });

function setup(): { model: Vgg; step: () => void } {
  const model = vgg({ depth: 11, widthDivisor: 8, batchNorm: true, classifier: 'standard', hidden: 16, dropout: 0.25 });
  initialize(model, { scheme: 'kaiming_normal', mode: 'fan_out', seed: 1 });
  model.build('cpu', [N, 3, 32, 32]);
  const x = fromFloat32('cpu', [N, 3, 32, 32], Float32Array.from(rand(N * 3072, 11)));
  const y = fromInt32('cpu', [N], randInt(N, 12, 10));
  const loss = new SoftmaxCrossEntropyLoss();
  const opt = createOptimizer(model.parameters(), { kind: 'sgd', lr: 0.01, momentum: 0.9 });
  live.push(model, x, y, loss);
  const step = () => {
    const logits = model.forward(x);
    loss.build('cpu', logits.shape);
    model.backward(loss.forward(logits, y)!);
    opt.step();
  };
  return { model, step };
}

function profile(steps: number, clock?: Clock): { report: ProfileReport; model: Vgg } {
  const { model, step } = setup();
  step(); // builds the optimizer state and caches outside the window
  const p = new Profiler('cpu', model, clock);
  p.start();
  for (let i = 0; i < steps; i++) {
    step();
    p.step();
  }
  return { report: p.stop(), model };
}

const row = (r: ProfileReport, layer: string, op: string) => r.rows.find((x) => x.layer === layer && x.op === op);

describe('profiler', () => {
  it('knows every function of the addon: timed, or listed as doing no device work', () => {
    const unknown = Object.keys(native).filter((k) => !(k in PROFILED_OPS) && !UNPROFILED.has(k));
    expect(unknown).toEqual([]);
    for (const k of Object.keys(PROFILED_OPS)) expect(typeof (native as unknown as Record<string, unknown>)[k], k).toBe('function');
  });

  it('installs nothing outside its window and restores every function and method afterwards', () => {
    const before = Object.fromEntries(Object.keys(PROFILED_OPS).map((k) => [k, (native as unknown as Record<string, unknown>)[k]]));
    const { model, step } = setup();
    const p = new Profiler('cpu', model);
    const ownMethods = () => model.namedModules().filter(([, m]) => ['forward', 'backward', 'prepareStep'].some((k) =>
      Object.prototype.hasOwnProperty.call(m, k))).length;
    expect(ownMethods()).toBe(0);
    p.start();
    expect(native.conv2dForward).not.toBe(before.conv2dForward);
    expect(ownMethods()).toBe(model.namedModules().length);
    step();
    p.step();
    p.stop();
    for (const [k, f] of Object.entries(before)) expect((native as unknown as Record<string, unknown>)[k], k).toBe(f);
    expect(ownMethods()).toBe(0);
    expect(p.open).toBe(false);
  });

  it('attributes each call to its layer and op and counts FLOPs as 2*N*K*C*R*S*Ho*Wo per convolution direction', () => {
    const steps = 3;
    const { report: r, model } = profile(steps, new TickClock());
    expect(r.steps).toBe(steps);
    expect(r.timing).toBe('ticks');
    const convs: Array<[string, Conv2d]> = [];
    let shape = [N, 3, 32, 32];
    model.net.layers.forEach((m, i) => {
      if (m instanceof Conv2d) {
        const name = `net.${i}`;
        convs.push([name, m]);
        const layer = `${name} Conv2d(${m.inChannels},${m.outChannels})`;
        const flops = 2 * N * m.outChannels * m.inChannels * 9 * shape[2] * shape[3]; // stride 1, padding 1: Ho = H
        for (const op of ['forward', 'backward-filter', ...(i === 0 ? [] : ['backward-data'])]) {
          const x = row(r, layer, op);
          expect(x, `${layer} ${op}`).toBeDefined();
          expect(x!.calls).toBe(steps);
          expect(x!.totalMs).toBe(steps); // one tick per call
          expect(x!.tflops! * 1e9 * x!.totalMs).toBeCloseTo(flops * steps, 0);
        }
        if (i === 0) expect(row(r, layer, 'backward-data'), 'the first layer computes no input gradient').toBeUndefined();
      }
      shape = m.outputShape(shape);
    });
    expect(convs).toHaveLength(8);
    const linears = model.namedModules().filter(([, m]) => m instanceof Linear) as Array<[string, Linear]>;
    for (const [name, l] of linears) {
      const b = row(r, `${name} Linear(${l.inFeatures},${l.outFeatures})`, 'backward')!;
      expect(b.tflops! * 1e9 * b.totalMs).toBeCloseTo(2 * 2 * N * l.inFeatures * l.outFeatures * steps, 0);
    }
    const bnLayers = new Set(r.rows.filter((x) => x.layer.includes('BatchNorm2d(')).map((x) => x.layer));
    expect(bnLayers.size).toBe(8);
    for (const l of bnLayers) expect(r.rows.filter((x) => x.layer === l).map((x) => [x.op, x.calls, x.tflops])).toEqual([['forward', steps, null], ['backward', steps, null]]);
    expect(r.rows.filter((x) => x.layer.includes('MaxPool2d(2)')).length).toBe(10);
    // one multi-tensor update per parameter group (weights with decay, biases and BatchNorm without) and step
    expect(row(r, 'optimizer', 'sgd update (multi-tensor)')!.calls).toBe(2 * steps);
    expect(row(r, 'optimizer', 'sgd coefficients')!.calls).toBe(2 * steps);
    expect(row(r, 'optimizer', 'sgd update')).toBeUndefined();
    expect(row(r, 'loss', 'softmaxCrossEntropy')!.calls).toBe(steps);
    expect(r.rows.some((x) => x.layer.includes('Dropout(0.25)') && x.op === 'forward')).toBe(true);
    // totals per kind add up to the rows
    const kind = (k: string) => r.kinds.find((x) => x.op === k)!;
    expect(kind('conv forward').calls).toBe(convs.length * steps);
    expect(kind('conv backward-data').calls).toBe((convs.length - 1) * steps);
    expect(r.kinds.reduce((a, x) => a + x.totalMs, 0)).toBeCloseTo(r.opsMs, 9);
    expect(r.rows.reduce((a, x) => a + x.calls, 0)).toBe(r.opsMs); // 1 ms per call
    // the layers in the order they first ran
    expect(r.rows[0].layer).toBe('net.0 Conv2d(3,8)');
  });

  it("counts a Dropout's prepareStep (its seed written to the device) in the Dropout's forward", () => {
    const { model, step } = setup();
    step();
    const p = new Profiler('cpu', model, new TickClock());
    p.start();
    for (let i = 0; i < 2; i++) {
      model.prepareStep();
      step();
      p.step();
    }
    const r = p.stop();
    const drops = model.namedModules().filter(([, m]) => m.typeName === 'Dropout').map(([name]) => `${name} Dropout(0.25)`);
    expect(drops).toHaveLength(2);
    for (const d of drops) expect(row(r, d, 'write (host to device)')?.calls, d).toBe(2);
    expect(row(r, 'data', 'write (host to device)')).toBeUndefined();
  });

  it('measures wall time on the CPU: shares of the step add up to 1 with the time between ops', () => {
    const { report: r } = profile(2);
    expect(r.timing).toBe('host wall time');
    expect(r.rows.every((x) => x.totalMs >= 0 && x.calls > 0)).toBe(true);
    expect(r.opsMs).toBeGreaterThan(0);
    expect(r.opsMs).toBeLessThanOrEqual(r.wallMs);
    expect(r.spanMs).toBeLessThanOrEqual(r.wallMs);
    expect(r.rows.reduce((a, x) => a + x.share, 0) + r.betweenOpsMs / r.wallMs).toBeCloseTo(1, 9);
    expect(r.msPerStep).toBeCloseTo(r.wallMs / 2, 9);
    const convFwd = r.kinds.find((x) => x.op === 'conv forward')!;
    expect(convFwd.tflops).toBeGreaterThan(0);
    expect(convFwd.tflops).toBeLessThan(100); // two CPU cores
  });

  it('formats aligned markdown tables: per layer and op, per kind, and the step', () => {
    const { report: r } = profile(2, new TickClock());
    const text = formatProfile(r);
    const [title, ...rest] = text.split('\n');
    expect(title).toMatch(/^profile: 2 steps on cpu \(ticks\), [\d.]+ ms wall, [\d.]+ ms per step; ops [\d.]+ ms/);
    const tables = rest.join('\n').trim().split('\n\n');
    expect(tables).toHaveLength(2);
    for (const t of tables) {
      const lines = t.split('\n');
      expect(new Set(lines.map((l) => l.length)).size, t).toBe(1); // every column padded alike
      expect(lines[1]).toMatch(/^\|-+\|/);
    }
    expect(tables[0].split('\n')[0]).toMatch(/^\| layer +\| op +\| calls \| total ms \| ms\/step \| +share \| TFLOP\/s \|$/);
    // (ticks against real wall time: a share can pass 100% here, which widens its column)
    expect(tables[0]).toMatch(/\| net\.0 Conv2d\(3,8\) +\| forward +\| +2 \| +2\.00 \| +1\.00 \| +[\d.]+% \| +[\d.]+ \|/);
    expect(tables[1]).toMatch(/\| step \(wall\) +\| +2 \| .* \| +100\.0% \| +\|/);
    expect(tables[1]).toContain('between ops (host, launches, idle device)');
  });

  it('refuses a second window and a stop without start; cancel() takes the wrappers down', () => {
    const { model } = setup();
    const conv = native.conv2dForward;
    const a = new Profiler('cpu', model);
    const b = new Profiler('cpu', model);
    expect(() => a.stop()).toThrow(/stop\(\) without start\(\)/);
    a.start();
    expect(() => b.start()).toThrow(/another profiling window is open/);
    a.cancel();
    expect(native.conv2dForward).toBe(conv);
    b.start();
    b.cancel();
    expect(native.conv2dForward).toBe(conv);
  });

  it('passes an op\'s error through, still timing the call, and leaves no wrapper behind', () => {
    const p = new Profiler('cpu', null, new TickClock());
    const t = fromFloat32('cpu', [2], [1, 2]);
    const u = fromFloat32('cpu', [3], [1, 2, 3]);
    live.push(t, u);
    p.start();
    expect(() => native.copy(t, u)).toThrow(/copy/);
    p.step();
    const r = p.stop();
    expect(r.rows).toEqual([expect.objectContaining({ layer: '(outside layers)', op: 'copy', calls: 1, totalMs: 1 })]);
    expect(() => native.copy(t, u)).toThrow(/copy/);
  });
});

describe('timing events (binding)', () => {
  it('are for cuda only, with errors that name the op', () => {
    expect(() => native.timingMark('cpu')).toThrow(RangeError);
    expect(() => native.timingMark('cpu')).toThrow(/^timingMark: timing events are for 'cuda'.*performance\.now/);
    expect(() => native.timingRead('tpu' as 'cpu')).toThrow(/^timingRead: device must be 'cpu' or 'cuda', got 'tpu'/);
    expect(() => (native.timingRead as unknown as () => void)()).toThrow(/^timingRead: expected 1 arguments, got 0/);
    const reason = cudaUnavailableReason();
    if (reason) expect(() => native.timingMark('cuda')).toThrow(/^timingMark: .*cuda backend/);
  });
});

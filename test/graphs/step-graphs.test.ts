// The step-graph runner's decisions (lib/step-graphs.ts), with a recording stand-in for the native calls:
// warm-up, capture, replay, per-key graphs, the fallback to eager with one notice, and the switches.
import { describe, expect, it } from 'vitest';
import type { NativeGraph } from '../../lib/backend.js';
import { StepGraphs, graphsOffReason, type GraphApi } from '../../lib/step-graphs.js';

interface Fake extends GraphApi {
  log: string[];
  capturing: boolean;
  failNext: string | null;
}

function fakeApi(): Fake {
  let n = 0;
  const f: Fake = {
    log: [],
    capturing: false,
    failNext: null,
    begin: () => { f.log.push('begin'); f.capturing = true; },
    end: () => {
      f.capturing = false;
      if (f.failNext) { const m = f.failNext; f.failNext = null; throw new Error(m); }
      const id = ++n;
      f.log.push(`end:${id}`);
      let disposed = false;
      return { device: 'cuda', nodes: 3, get disposed() { return disposed; }, dispose: () => { disposed = true; f.log.push(`dispose:${id}`); } } as NativeGraph;
    },
    abort: () => { f.log.push('abort'); f.capturing = false; },
    launch: (g) => { f.log.push(`launch:${g.disposed ? 'DISPOSED' : 'ok'}`); },
  };
  return f;
}

/** A body that records whether it ran while capturing. */
const bodyOf = (api: Fake, runs: string[]) => () => { runs.push(api.capturing ? 'recorded' : 'ran'); };

describe('StepGraphs', () => {
  it('runs the warm-up eagerly, captures and launches the next step, then replays without calling the body', () => {
    const api = fakeApi();
    const runs: string[] = [];
    const g = new StepGraphs({ device: 'cuda', api, warmup: 2, env: {} });
    const how = [1, 2, 3, 4, 5].map(() => g.run('train:128', bodyOf(api, runs)));
    expect(how).toEqual(['eager', 'eager', 'captured', 'replayed', 'replayed']);
    expect(runs).toEqual(['ran', 'ran', 'recorded']);
    expect(api.log).toEqual(['begin', 'end:1', 'launch:ok', 'launch:ok', 'launch:ok']);
    expect(g.stats).toEqual({ eager: 2, captured: 1, replayed: 2, failed: {} });
    expect(g.captured('train:128')).toBe(true);
  });

  it('keeps one graph per key (a partial last batch is its own step)', () => {
    const api = fakeApi();
    const g = new StepGraphs({ device: 'cuda', api, env: {} });
    const seq = ['full', 'full', 'part', 'full', 'part', 'part'].map((k) => `${k}:${g.run(k, () => {})}`);
    expect(seq).toEqual(['full:eager', 'full:captured', 'part:eager', 'full:replayed', 'part:captured', 'part:replayed']);
    g.dispose();
    expect(api.log.filter((l) => l.startsWith('dispose')).sort()).toEqual(['dispose:1', 'dispose:2']);
    expect(g.captured('full')).toBe(false);
  });

  it('falls back to eager when a capture fails: the step still runs, the key stays eager, one notice', () => {
    const api = fakeApi();
    const notices: string[] = [];
    const runs: string[] = [];
    const g = new StepGraphs({ device: 'cuda', api, env: {}, onNotice: (m) => notices.push(m) });
    g.run('a', bodyOf(api, runs));
    api.failNext = 'cudaStreamEndCapture: operation not permitted when stream is capturing';
    expect(g.run('a', bodyOf(api, runs), () => runs.push('rearmed'))).toBe('eager');
    // the failed capture recorded the body once; the step's preparations were re-armed, then it ran for real
    expect(runs).toEqual(['ran', 'recorded', 'rearmed', 'ran']);
    expect(api.log).toEqual(['begin', 'abort']);
    expect(g.run('a', bodyOf(api, runs))).toBe('eager');
    expect(runs.at(-1)).toBe('ran');
    // another key fails too: still one notice
    g.run('b', () => {});
    api.failNext = 'second failure';
    g.run('b', () => {});
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/capture of the a step failed, so it runs eagerly .*operation not permitted/);
    expect(g.stats.failed).toEqual({ a: 'cudaStreamEndCapture: operation not permitted when stream is capturing', b: 'second failure' });
  });

  it('an error thrown by the body while capturing aborts the capture and the body reruns eagerly (a real error surfaces there)', () => {
    const api = fakeApi();
    const g = new StepGraphs({ device: 'cuda', api, env: {} });
    g.run('k', () => {});
    let calls = 0;
    expect(() => g.run('k', () => { calls++; throw new RangeError(`conv2dForward: bad shape (call ${calls})`); })).toThrow('conv2dForward: bad shape (call 2)');
    expect(api.log).toEqual(['begin', 'abort']);
    expect(api.capturing).toBe(false);
  });

  it('is off on the cpu, with graphs: off, and with VGG_CIFAR_CUDA_GRAPHS=0, and says why', () => {
    const api = fakeApi();
    const cpu = new StepGraphs({ device: 'cpu', api, env: {} });
    expect(cpu.enabled).toBe(false);
    expect(cpu.offReason).toMatch(/cpu backend runs each op when called/);
    expect([1, 2, 3].map(() => cpu.run('k', () => {}))).toEqual(['eager', 'eager', 'eager']);
    expect(api.log).toEqual([]);
    expect(new StepGraphs({ device: 'cuda', api, graphs: 'off', env: {} }).offReason).toMatch(/graphs: off/);
    expect(graphsOffReason('cuda', 'auto', { VGG_CIFAR_CUDA_GRAPHS: '0' })).toMatch(/VGG_CIFAR_CUDA_GRAPHS=0/);
    expect(graphsOffReason('cuda', 'on', { VGG_CIFAR_CUDA_GRAPHS: '0' })).toBeNull();
    expect(graphsOffReason('cuda', 'auto', { VGG_CIFAR_CUDA_GRAPHS: '1' })).toBeNull();
    expect(graphsOffReason('cuda', 'auto', {})).toBeNull();
    expect(() => graphsOffReason('cuda', 'auto', { VGG_CIFAR_CUDA_GRAPHS: 'yes' })).toThrow(/VGG_CIFAR_CUDA_GRAPHS must be 0 or 1, got 'yes'/);
    expect(() => new StepGraphs({ device: 'cuda', api, warmup: 0 })).toThrow(/warmup must be an integer >= 1/);
  });
});

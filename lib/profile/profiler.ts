// The profiler: while a window is open it wraps the functions of `native` that run device work
// (ops.ts) and the forward/backward of every module it was given, so each native call is timed between
// two marks of the device's clock and attributed to the innermost module running. Nothing is installed
// outside a window: a run that never profiles, or has finished its window, calls the addon directly.
import { native, type Device } from '../backend.js';
import type { Module } from '../nn/module.js';
import { clockFor, type Clock } from './clock.js';
import { layerName } from './layers.js';
import { PROFILED_OPS, type OpInfo } from './ops.js';
import { buildReport, type CallRecord, type ProfileReport } from './report.js';

type Fn = (...args: unknown[]) => unknown;
type Phase = '' | 'forward' | 'backward';

/** The profiler whose window is open in this thread: one at a time, since they wrap the same `native`. */
let openWindow: Profiler | null = null;

export class Profiler {
  readonly device: Device;
  private readonly clock: Clock;
  private readonly modules: Array<[string, Module]>;
  private readonly restore: Array<() => void> = [];
  /** Layer names by id; ids index the stack below. */
  private readonly layers: string[] = [];
  private readonly layerIds = new Map<string, number>();
  private readonly stack: Array<{ layer: number; phase: Phase }> = [];
  private calls: CallRecord[] = [];
  private steps = 0;
  private wallStart = 0;
  private firstMark = 0;

  /** `model`: the module whose layers the calls are attributed to (its namedModules()), or named modules. */
  constructor(device: Device, model: Module | Array<[string, Module]> | null = null, clock: Clock = clockFor(device)) {
    this.device = device;
    this.clock = clock;
    this.modules = model === null ? [] : Array.isArray(model) ? model : model.namedModules();
  }

  get open(): boolean {
    return openWindow === this;
  }

  /** Steps counted since start(). */
  get stepCount(): number {
    return this.steps;
  }

  /** Opens the window: waits for the device once (so earlier work is not counted), installs the wrappers. */
  start(): void {
    if (openWindow) throw new Error('profiler: another profiling window is open in this thread; stop() it first');
    this.clock.mark();
    this.clock.read();
    openWindow = this;
    this.calls = [];
    this.steps = 0;
    this.stack.length = 0;
    try {
      this.wrapModules();
      this.wrapNative();
    } catch (e) {
      this.uninstall();
      throw e;
    }
    this.wallStart = performance.now();
    this.firstMark = this.clock.mark();
  }

  /** Counts one training step (the table's per-step columns divide by the count). */
  step(): void {
    if (this.open) this.steps++;
  }

  /** Closes the window: one wait for the device, then the table's numbers. The wrappers are gone after. */
  stop(): ProfileReport {
    if (!this.open) throw new Error('profiler: stop() without start()');
    let times: Float64Array;
    try {
      this.clock.mark();
      times = this.clock.read();
    } finally {
      this.uninstall();
    }
    const wallMs = performance.now() - this.wallStart;
    return buildReport({ device: this.device, source: this.clock.source, steps: this.steps, wallMs, times, firstMark: this.firstMark,
      calls: this.calls, layers: this.layers });
  }

  /** Closes the window without a report (an error mid-window). Safe to call when not open. */
  cancel(): void {
    if (!this.open) return;
    try {
      this.clock.read();
    } catch {
      // the error that made us cancel is the one worth reporting
    } finally {
      this.uninstall();
    }
  }

  private layerId(name: string): number {
    let id = this.layerIds.get(name);
    if (id === undefined) {
      id = this.layers.push(name) - 1;
      this.layerIds.set(name, id);
    }
    return id;
  }

  private uninstall(): void {
    while (this.restore.length) this.restore.pop()!();
    if (openWindow === this) openWindow = null;
  }

  /** Replaces obj[key] until uninstall(), restoring an own property or falling back to the prototype's. */
  private replace(obj: object, key: string, fn: Fn): void {
    const o = obj as Record<string, unknown>;
    const own = Object.prototype.hasOwnProperty.call(o, key);
    const before = o[key];
    o[key] = fn;
    this.restore.push(own ? () => { o[key] = before; } : () => { delete o[key]; });
  }

  private wrapModules(): void {
    const stack = this.stack;
    for (const [name, m] of this.modules) {
      const layer = this.layerId(layerName(name, m));
      // prepareStep is the host half of the forward (Dropout's seed write): its calls count as the forward's.
      for (const [key, phase] of [['forward', 'forward'], ['backward', 'backward'], ['prepareStep', 'forward']] as const) {
        const original = m[key] as Fn;
        this.replace(m, key, function (this: unknown, ...args: unknown[]) {
          stack.push({ layer, phase });
          try {
            return original.apply(this, args);
          } finally {
            stack.pop();
          }
        });
      }
    }
  }

  private wrapNative(): void {
    const target = native as unknown as Record<string, Fn>;
    for (const [name, info] of Object.entries(PROFILED_OPS)) {
      const original = target[name];
      if (typeof original !== 'function') throw new Error(`profiler: the addon has no function ${name} (rebuild it: npm run build:native)`);
      this.replace(target, name, this.timed(original, info));
    }
  }

  /** The wrapper of one native function: a mark before and after, and who called it. */
  private timed(original: Fn, info: OpInfo): Fn {
    const clock = this.clock;
    const stack = this.stack;
    const calls = () => this.calls;
    const outsideId = this.layerId(info.outside ?? '(outside layers)');
    return (...args: unknown[]) => {
      const top = stack.length ? stack[stack.length - 1] : null;
      const start = clock.mark();
      try {
        return original.apply(native, args);
      } finally {
        const end = clock.mark();
        calls().push({ layer: top ? top.layer : outsideId, phase: top ? top.phase : '', info, start, end, flops: info.flops ? info.flops(args) : 0 });
      }
    };
  }
}

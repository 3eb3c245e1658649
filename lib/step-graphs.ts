// CUDA graphs for steps that repeat: a step's device work is recorded once and replayed with one launch,
// which removes the host's per-op work (JS, N-API, descriptors, kernel launches). Per key (a step kind
// and its shapes): the first `warmup` calls run eagerly, so algorithms are found, buffers allocated and
// caches filled; the next is captured and launched; later ones replay the graph.
//
// The body must do device work only, on tensors that stay put, and change no host state: a replay does
// not call it. Per-step inputs (batch indices, seeds, optimizer coefficients) are written before run().
// A capture that fails (an op that cannot be captured, a library that refuses) is discarded, the body
// runs eagerly instead, that key stays eager, and onNotice says why, once per runner.
import { native, type Device, type NativeGraph } from './backend.js';

/** The native calls the runner makes (tests substitute their own). */
export interface GraphApi {
  begin(device: Device): void;
  end(device: Device): NativeGraph;
  abort(device: Device): void;
  launch(graph: NativeGraph): void;
}

const nativeGraphs: GraphApi = {
  begin: (d) => native.graphCaptureBegin(d),
  end: (d) => native.graphCaptureEnd(d),
  abort: (d) => native.graphCaptureAbort(d),
  launch: (g) => native.graphLaunch(g),
};

export const GRAPH_SETTINGS = ['auto', 'on', 'off'] as const;
export type GraphSetting = (typeof GRAPH_SETTINGS)[number];

export interface StepGraphOptions {
  device: Device;
  /** 'auto' (default): on for cuda unless VGG_CIFAR_CUDA_GRAPHS=0; 'off': always eager; 'on': as auto,
   *  but the environment cannot turn it off. */
  graphs?: GraphSetting;
  /** Eager runs of a key before it is captured (default 1). */
  warmup?: number;
  /** Told once why a capture failed (and that the steps now run eagerly). */
  onNotice?: (message: string) => void;
  api?: GraphApi;
  env?: NodeJS.ProcessEnv;
}

export type StepRun = 'eager' | 'captured' | 'replayed';

export interface StepGraphStats {
  eager: number;
  captured: number;
  replayed: number;
  /** Keys whose capture failed, with the reason. */
  failed: Record<string, string>;
}

interface Entry {
  graph: NativeGraph | null;
  eagerRuns: number;
  failure: string | null;
}

/** Why graphs are off for this device and setting, or null when they are on. */
export function graphsOffReason(device: Device, setting: GraphSetting = 'auto', env: NodeJS.ProcessEnv = process.env): string | null {
  if (setting === 'off') return 'CUDA graphs are turned off (graphs: off)';
  if (device !== 'cuda') return `the ${device} backend runs each op when called (CUDA graphs are for the cuda backend)`;
  const v = env.VGG_CIFAR_CUDA_GRAPHS;
  if (setting === 'auto' && v !== undefined && v !== '' && v !== '1') {
    if (v !== '0') throw new RangeError(`VGG_CIFAR_CUDA_GRAPHS must be 0 or 1, got '${v}'`);
    return 'CUDA graphs are turned off (VGG_CIFAR_CUDA_GRAPHS=0)';
  }
  return null;
}

export class StepGraphs {
  readonly device: Device;
  /** Null when graphs are used; else why not. */
  readonly offReason: string | null;
  private readonly warmup: number;
  private readonly api: GraphApi;
  private readonly onNotice: (message: string) => void;
  private readonly entries = new Map<string, Entry>();
  private noticed = false;
  private readonly counts = { eager: 0, captured: 0, replayed: 0 };

  constructor(opts: StepGraphOptions) {
    const warmup = opts.warmup ?? 1;
    if (!(Number.isInteger(warmup) && warmup >= 1)) throw new RangeError(`StepGraphs: warmup must be an integer >= 1, got ${warmup}`);
    this.device = opts.device;
    this.offReason = graphsOffReason(opts.device, opts.graphs ?? 'auto', opts.env ?? process.env);
    this.warmup = warmup;
    this.api = opts.api ?? nativeGraphs;
    this.onNotice = opts.onNotice ?? (() => {});
  }

  get enabled(): boolean {
    return this.offReason === null;
  }

  /** Runs one step of kind `key`: eagerly, captured then launched, or replayed. `rearm` is called before
   *  the body runs again after a failed capture (the attempt consumed the step's preparations: see
   *  Module.rearmStep). */
  run(key: string, body: () => void, rearm?: () => void): StepRun {
    const e = this.enabled ? this.entry(key) : null;
    if (!e || e.failure !== null || e.eagerRuns < this.warmup) {
      body();
      if (e) e.eagerRuns++;
      this.counts.eager++;
      return 'eager';
    }
    if (e.graph) {
      this.api.launch(e.graph);
      this.counts.replayed++;
      return 'replayed';
    }
    const graph = this.capture(key, e, body);
    if (!graph) {
      rearm?.();
      body(); // nothing ran while capturing: the step's work is still to do
      this.counts.eager++;
      return 'eager';
    }
    e.graph = graph;
    this.api.launch(graph);
    this.counts.captured++;
    return 'captured';
  }

  /** Whether `key` replays a graph now. */
  captured(key: string): boolean {
    return !!this.entries.get(key)?.graph;
  }

  get stats(): StepGraphStats {
    const failed: Record<string, string> = {};
    for (const [k, e] of this.entries) if (e.failure !== null) failed[k] = e.failure;
    return { ...this.counts, failed };
  }

  /** Frees every graph and what only the graphs held. The graphs keep the steps' tensors alive, so the
   *  order of disposal does not matter, but that memory stays until this is called. */
  dispose(): void {
    for (const e of this.entries.values()) e.graph?.dispose();
    this.entries.clear();
  }

  private entry(key: string): Entry {
    let e = this.entries.get(key);
    if (!e) {
      e = { graph: null, eagerRuns: 0, failure: null };
      this.entries.set(key, e);
    }
    return e;
  }

  private capture(key: string, e: Entry, body: () => void): NativeGraph | null {
    try {
      this.api.begin(this.device);
      body();
      return this.api.end(this.device);
    } catch (err) {
      try {
        this.api.abort(this.device);
      } catch {
        // the capture's own error below says what went wrong
      }
      e.failure = err instanceof Error ? err.message : String(err);
      if (!this.noticed) {
        this.noticed = true;
        this.onNotice(`CUDA graph capture of the ${key} step failed, so it runs eagerly (same results, more host work per step): ${e.failure}`);
      }
      return null;
    }
  }
}

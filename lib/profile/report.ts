// The profiler's numbers: per layer and op, and per op kind, from the timed calls of one window.
import type { Device } from '../backend.js';
import type { OpInfo } from './ops.js';

/** One timed native call: the marks around it (indices into the clock's times) and who made it. */
export interface CallRecord {
  layer: number;
  phase: '' | 'forward' | 'backward';
  info: OpInfo;
  start: number;
  end: number;
  flops: number;
}

export interface ProfileRow {
  /** `net.0 Conv2d(3,64)`, or 'data', 'loss', 'optimizer', 'host reads' for calls outside the model's layers;
   *  '' in the per-kind totals. */
  layer: string;
  /** The op inside the layer ('forward', 'backward-data'…), or in the totals the op kind ('conv forward'). */
  op: string;
  calls: number;
  totalMs: number;
  msPerStep: number;
  /** Fraction (0-1) of the window's wall time. */
  share: number;
  /** Achieved TFLOP/s where the op has a standard count (convolution, linear), else null. */
  tflops: number | null;
}

export interface ProfileReport {
  device: Device;
  /** 'CUDA events' (device time of each op) or 'host wall time' (CPU: ops are synchronous). */
  timing: string;
  steps: number;
  /** Host wall time of the window, from after the opening synchronization to after the closing one. */
  wallMs: number;
  msPerStep: number;
  /** Sum of the ops' times. */
  opsMs: number;
  /** From the first mark to the last on the device's clock (on the GPU: the stream's busy and idle time). */
  spanMs: number;
  /** wallMs - opsMs: the host's time between calls (launches, JavaScript) and, on the GPU, idle stream time. */
  betweenOpsMs: number;
  /** Per layer and op, in the order the layers first ran. */
  rows: ProfileRow[];
  /** Per op kind, the largest first. */
  kinds: ProfileRow[];
}

export interface ReportInput {
  device: Device;
  source: string;
  steps: number;
  wallMs: number;
  times: Float64Array;
  firstMark: number;
  calls: readonly CallRecord[];
  layers: readonly string[];
}

interface Acc { layer: string; op: string; calls: number; ms: number; flops: number; hasFlops: boolean }

function add(map: Map<string, Acc>, key: string, layer: string, op: string, ms: number, c: CallRecord): void {
  let a = map.get(key);
  if (!a) map.set(key, (a = { layer, op, calls: 0, ms: 0, flops: 0, hasFlops: false }));
  a.calls++;
  a.ms += ms;
  a.flops += c.flops;
  a.hasFlops ||= c.info.flops !== undefined;
}

export function buildReport(r: ReportInput): ProfileReport {
  const steps = Math.max(1, r.steps);
  const byRow = new Map<string, Acc>();
  const byKind = new Map<string, Acc>();
  let opsMs = 0;
  for (const c of r.calls) {
    const ms = Math.max(0, r.times[c.end] - r.times[c.start]);
    const layer = r.layers[c.layer];
    const op = c.info.phased && c.phase ? `${c.info.op} (${c.phase})` : c.info.op;
    add(byRow, `${layer}\u0000${op}`, layer, op, ms, c);
    add(byKind, c.info.kind, '', c.info.kind, ms, c);
    opsMs += ms;
  }
  const row = (a: Acc): ProfileRow => ({
    layer: a.layer, op: a.op, calls: a.calls, totalMs: a.ms, msPerStep: a.ms / steps, share: r.wallMs > 0 ? a.ms / r.wallMs : 0,
    tflops: a.hasFlops && a.ms > 0 ? a.flops / (a.ms * 1e9) : null,
  });
  const last = r.times.length - 1;
  return {
    device: r.device, timing: r.source, steps: r.steps, wallMs: r.wallMs, msPerStep: r.wallMs / steps, opsMs,
    spanMs: last > r.firstMark ? r.times[last] - r.times[r.firstMark] : 0, betweenOpsMs: r.wallMs - opsMs,
    rows: [...byRow.values()].map(row),
    kinds: [...byKind.values()].map(row).sort((a, b) => b.totalMs - a.totalMs),
  };
}

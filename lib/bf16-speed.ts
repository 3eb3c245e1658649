// Is bf16 mixed precision faster than fp32 on this CPU? Measured, not inferred from the ISA's name: the
// answer depends on which oneDNN kernels run, and the same ISA differs between CPUs (with AVX512-BF16
// alone, bf16 measured 1.35x faster than fp32 on a Zen 5 EPYC and 2x slower on an AMX Xeon whose oneDNN
// was capped at AVX512-BF16; bench/RESULTS.md). The first use times a little of VGG16's convolution work
// in both precisions (well under a second) and caches the answer (bf16-cache.ts); `info` shows it and
// train/eval warn only where bf16 measured slower.
import { performance } from 'node:perf_hooks';
import { backends, checkBf16, native, type Device, type DType, type NativeTensor } from './backend.js';
import { watchContention } from './cpu-contention.js';
import { currentKey, defaultCacheFile, readCachedSpeed, writeCachedSpeed, type Bf16Speed, type Bf16SpeedKey } from './bf16-cache.js';

export type { Bf16Speed, Bf16SpeedKey } from './bf16-cache.js';

// VGG16's convolutions run in two regimes of about equal weight: maps of 8x8 and larger, where fp32 has
// oneDNN's Winograd kernels (a quarter of the multiplications), and the 4x4 and 2x2 maps with 512
// channels, where both precisions run direct kernels and bf16's halved traffic and doubled FMA rate
// show. One layer of each at batch 16: on a Zen 5 EPYC (AVX512-BF16) this pair gave 1.56x against 1.35x
// for a whole VGG16 training step at batch 32, while a single layer ranged from 0.93x to 1.72x; on the
// AMX Xeon capped at AVX512-BF16 the same two layers (batch 32) give 0.51x against 0.50x for the step.
const LAYERS = [{ channels: 128, size: 16 }, { channels: 512, size: 4 }];
const BATCH = 16;
/** Timed rounds after the first (kernel generation); each layer's fastest round in each precision counts. */
const ROUNDS = 3;
export const WORKLOAD = `3x3 convolutions forward and backward at batch ${BATCH}: ` +
  LAYERS.map((l) => `${l.channels} channels at ${l.size}x${l.size}`).join(' and ');

interface Step { run(): void; tensors: NativeTensor[] }

/** One convolution layer's forward, backward-filter and backward-data in `dtype` on the CPU, laid out as
 *  the layers keep their activations (blocked fp32, NHWC bf16), with fp32 weight gradients. */
function convStep(dtype: DType, channels: number, size: number): Step {
  const shape = [BATCH, channels, size, size];
  const layout = native.preferredLayout('cpu', shape, dtype);
  const act = () => native.empty('cpu', shape, dtype, layout);
  const [x, y, dy, dx] = [act(), act(), act(), act()];
  const w = native.empty('cpu', [channels, channels, 3, 3], dtype);
  const dw = native.empty('cpu', [channels, channels, 3, 3], 'float32');
  const b = native.empty('cpu', [channels], 'float32');
  const db = native.empty('cpu', [channels], 'float32');
  // Ordinary values: zeros or denormals could take other paths through the kernels.
  for (const [t, v] of [[x, 0.5], [dy, 0.01], [w, 0.02], [b, 0.1]] as const) native.fill(t, v);
  const p = { strideH: 1, strideW: 1, padH: 1, padW: 1 };
  return {
    run: () => {
      native.conv2dForward(x, w, b, y, p, true);
      native.conv2dBackwardFilter(x, dy, dw, db, p);
      native.conv2dBackwardData(dy, w, dx, p);
    },
    tensors: [x, y, dy, dx, w, dw, b, db],
  };
}

/** Times the workload in fp32 and bf16 on the CPU, layer by layer and precision by precision in turn so
 *  that a busy neighbour slows both alike; each layer's fastest round counts. Needs bf16 kernels
 *  (checkBf16('cpu') passes). Reports how much of the CPU other processes took meanwhile. */
export function measureBf16Speed(): Bf16Speed {
  const t0 = performance.now();
  const contention = watchContention(native.getThreads());
  const fp32 = LAYERS.map((l) => convStep('float32', l.channels, l.size));
  const bf16 = LAYERS.map((l) => convStep('bfloat16', l.channels, l.size));
  try {
    const time = (s: Step) => {
      const start = performance.now();
      s.run();
      return performance.now() - start;
    };
    const best = { fp32: LAYERS.map(() => Infinity), bf16: LAYERS.map(() => Infinity) };
    for (let round = 0; round <= ROUNDS; round++) {
      for (let i = 0; i < LAYERS.length; i++) {
        const f = time(fp32[i]);
        const h = time(bf16[i]);
        if (round === 0) continue;  // the first calls generate the kernels
        best.fp32[i] = Math.min(best.fp32[i], f);
        best.bf16[i] = Math.min(best.bf16[i], h);
      }
    }
    const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
    const [fp32Ms, bf16Ms] = [sum(best.fp32), sum(best.bf16)];
    return { speedup: fp32Ms / bf16Ms, fp32Ms, bf16Ms, workload: WORKLOAD, measuredAt: new Date().toISOString(),
      tookMs: performance.now() - t0, contention: contention() };
  } finally {
    for (const t of [...fp32, ...bf16].flatMap((s) => s.tensors)) t.dispose();
  }
}

export interface CpuBf16SpeedOptions {
  /** The cache file (default ~/.cache/vgg-cifar/bf16-speed.json, under XDG_CACHE_HOME when set). */
  file?: string;
  /** The configuration the answer is for (default: this process's; tests inject others). */
  key?: Bf16SpeedKey;
  /** Measure even when the cache has an answer, and replace it. */
  fresh?: boolean;
  /** The measurement (default measureBf16Speed; tests inject theirs). */
  measure?: () => Bf16Speed;
}

/** Above this share of our cores taken by other processes, a timing is not cached. */
export const BUSY_CONTENTION = 0.2;

export interface CpuBf16SpeedResult extends Bf16Speed {
  /** True when the answer came from the cache file. */
  cached: boolean;
  file: string;
  /** Why a new measurement was not cached, when it was not (a busy machine, an unwritable cache). */
  notCached?: string;
}

/** bf16's measured speed against fp32 on this CPU: from the cache, else measured now and cached unless
 *  other processes took much of the CPU meanwhile (then it is measured again at the next use). */
export function cpuBf16Speed(o: CpuBf16SpeedOptions = {}): CpuBf16SpeedResult {
  const file = o.file ?? defaultCacheFile();
  const key = o.key ?? currentKey();
  const hit = o.fresh ? null : readCachedSpeed(file, key);
  if (hit) return { ...hit, cached: true, file };
  const speed = (o.measure ?? measureBf16Speed)();
  const busy = speed.contention !== null && speed.contention > BUSY_CONTENTION;
  const notCached = busy
    ? `other processes took ${Math.round(100 * speed.contention!)}% of the CPU meanwhile; measured again at the next use`
    : writeCachedSpeed(file, key, speed);
  return { ...speed, cached: false, file, ...(notCached ? { notCached } : {}) };
}

const fmt = (ms: number) => ms.toFixed(ms < 10 ? 2 : 1);

/** "measured 1.42x as fast as fp32 (…)" or "measured 0.51x the speed of fp32: slower (…)". */
export function describeBf16Speed(s: Bf16Speed): string {
  const verdict = s.speedup >= 1 ? `${s.speedup.toFixed(2)}x as fast as fp32` : `${s.speedup.toFixed(2)}x the speed of fp32: slower`;
  return `measured ${verdict} (${fmt(s.bf16Ms)} ms against ${fmt(s.fp32Ms)} ms for ${s.workload}; ${s.measuredAt.slice(0, 10)})`;
}

/** Where the figure comes from and how to measure again. */
export function describeBf16Source(r: CpuBf16SpeedResult): string {
  if (r.cached) return `cached in ${r.file}; \`vgg-cifar info --measure-bf16\` measures again`;
  return `measured now in ${Math.round(r.tookMs)} ms; ${r.notCached ? `not cached: ${r.notCached}` : `cached in ${r.file}`}`;
}

/** The warning for bf16 on a CPU where it measured slower than fp32, else null. */
export function bf16CpuWarning(r: CpuBf16SpeedResult, isa: string): string | null {
  if (r.speedup >= 1) return null;
  return `precision bf16 is slower than fp32 on this CPU (oneDNN at ${isa}): ${describeBf16Speed(r)}. ` +
    `bf16 still halves the activation memory; use fp32 for speed (${describeBf16Source(r)}).`;
}

/** Throws, saying why, where bf16 cannot run on `device`; returns a warning where it runs but measured
 *  slower than fp32 (on the CPU), else null. */
export function bf16Warning(device: Device, o: CpuBf16SpeedOptions = {}): string | null {
  checkBf16(device);
  if (device !== 'cpu') return null;
  const isa = String(backends().find((b) => b.device === 'cpu')!.details.isa);
  return bf16CpuWarning(cpuBf16Speed(o), isa);
}

// Malformed calls to the native surface, run in a process of its own (a test spawns it) so that an abort
// or a segfault is seen as a crash, not as a failed assertion. Part 1: a table of malformed calls that
// the per-op tables in test/native do not hold (tensor creation, enormous and negative sizes, NaN and
// Infinity hyper-parameters, disposed tensors and views, duck-typed fakes). Part 2: seeded random
// corruptions of valid calls to every op: each must succeed or throw an Error naming the op.
// Prints one JSON line: { table, tableFailures, random, randomFailures, accepted }.
// Usage: node dist/bench/fuzz-native.js [--calls N] [--seed S]
import { writeSync } from 'node:fs';
import { native, type NativeTensor } from '../lib/backend.js';
import { Rng } from '../lib/data/rng.js';

type AnyFn = (...args: unknown[]) => unknown;
const n = native as unknown as Record<string, AnyFn>;

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const trace = process.argv.includes('--trace');
const note = (s: string) => { if (trace) writeSync(2, s + '\n'); };

const made: NativeTensor[] = [];
const keep = <T extends NativeTensor>(t: T): T => { made.push(t); return t; };
const f32 = (shape: number[], layout: 'plain' | 'nChw8c' | 'nChw16c' = 'plain') => {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.sin(i * 1.7) * 0.5;
  return keep(native.fromArray('cpu', shape, data, 'float32', layout));
};
const i32 = (shape: number[], v: (i: number) => number) => keep(native.fromArray('cpu', shape, Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => v(i))));
const u8 = (shape: number[]) => keep(native.fromArray('cpu', shape, Uint8Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i % 251)));

const conv = { strideH: 1, strideW: 1, padH: 1, padW: 1 };
const pool = { kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 };
const bn = { training: true, momentum: 0.1, eps: 1e-5 };
const sgd = { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, maximize: false, firstStep: true };
const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, amsgrad: false, maximize: false, step: 1 };
const adagrad = { lr: 0.01, lrDecay: 0, weightDecay: 0, eps: 1e-10, maximize: false, step: 1 };
const batch = { scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], cropPad: 2, padMode: 'zero', flip: true, seed: 3 };

// ---- fixtures: a valid argument list for every op
const T = {
  cx: f32([2, 3, 8, 8]), cw: f32([4, 3, 3, 3]), cb: f32([4]), cy: f32([2, 4, 8, 8]), cdy: f32([2, 4, 8, 8]), cdx: f32([2, 3, 8, 8]), cdw: f32([4, 3, 3, 3]), cdb: f32([4]),
  px: f32([2, 16, 8, 8]), py: f32([2, 16, 4, 4]), pdy: f32([2, 16, 4, 4]), pdx: f32([2, 16, 8, 8]),
  lx: f32([3, 5]), lw: f32([4, 5]), lb: f32([4]), ly: f32([3, 4]), ldy: f32([3, 4]), ldx: f32([3, 5]), ldw: f32([4, 5]), ldb: f32([4]),
  ex: f32([2, 16, 4, 4]), ey: f32([2, 16, 4, 4]), ez: f32([2, 16, 4, 4]), mask: u8([2, 16, 4, 4]), eh: keep(native.empty('cpu', [2, 16, 4, 4], 'bfloat16')),
  g: f32([16]), b: f32([16]), rm: f32([16]), rv: f32([16]), sm: f32([16]), si: f32([16]), dg: f32([16]), db: f32([16]),
  logits: f32([4, 10]), labels: i32([4], (i) => i * 2), dlogits: f32([4, 10]), acc: f32([1]), cnt: i32([1], () => 0), am: i32([4], () => 0), probs: f32([4, 10]),
  p: f32([5, 7]), gr: f32([5, 7]), m1: f32([5, 7]), m2: f32([5, 7]), m3: f32([5, 7]),
  q: f32([3]), qg: f32([3]), q1: f32([3]), q2: f32([3]), q3: f32([3]), co: f32([native.optimizerCoefficientsSize]),
  ds: u8([6, 3, 8, 8]), ix: i32([2], (i) => i * 5), out: f32([2, 3, 8, 8]), lab8: u8([6]), outl: i32([2], () => 0),
  seed: i32([1], () => -7), // the seed tensor of dropoutForward and loadBatch (uint32 bits: 2^32 - 7)
};
const ws = keep(native.empty('cpu', [Math.max(1, native.maxPool2dWorkspaceSize(T.px, T.py, pool))], 'uint8'));
const gone = f32([2, 16, 4, 4]);
gone.dispose();

const VALID: Record<string, () => unknown[]> = {
  empty: () => ['cpu', [2, 3], 'float32'],
  fromArray: () => ['cpu', [2, 2], Float32Array.of(1, 2, 3, 4)],
  toArray: () => [T.ex],
  copy: () => [T.ex, T.ey],
  write: () => [T.lx, new Float32Array(15)],
  fill: () => [T.ez, 0.5],
  preferredLayout: () => ['cpu', [2, 16, 4, 4]],
  liveBytes: () => ['cpu'],
  setThreads: () => [native.getThreads()],
  setTf32: () => [false],
  conv2dForward: () => [T.cx, T.cw, T.cb, T.cy, conv, false],
  conv2dBackwardData: () => [T.cdy, T.cw, T.cdx, conv],
  conv2dBackwardFilter: () => [T.cx, T.cdy, T.cdw, T.cdb, conv],
  maxPool2dWorkspaceSize: () => [T.px, T.py, pool],
  maxPool2dForward: () => [T.px, T.py, ws, pool],
  maxPool2dBackward: () => [T.pdy, T.px, T.py, ws, T.pdx, pool],
  linearForward: () => [T.lx, T.lw, T.lb, T.ly, false],
  linearBackward: () => [T.lx, T.lw, T.ldy, T.ldx, T.ldw, T.ldb],
  reluForward: () => [T.ex, T.ey],
  reluBackward: () => [T.ey, T.ex, T.ez],
  dropoutForward: () => [T.ex, T.mask, T.ey, 0.5, 7, T.seed],
  dropoutBackward: () => [T.ex, T.mask, T.ez, 0.5],
  axpby: () => [T.ex, T.ez, 0.5, 0.5],
  cast: () => [T.ex, T.eh],
  batchNorm2dForward: () => [T.ex, T.g, T.b, T.rm, T.rv, T.ey, T.sm, T.si, bn],
  batchNorm2dBackward: () => [T.ex, T.ez, T.g, T.sm, T.si, T.ey, T.dg, T.db, 1e-5],
  softmaxCrossEntropy: () => [T.logits, T.labels, T.dlogits, T.acc, 0.1, true],
  argmax: () => [T.logits, T.am],
  countCorrect: () => [T.logits, T.labels, T.cnt, true],
  sumSquares: () => [T.p, T.acc, false],
  softmax: () => [T.logits, T.probs],
  sgdUpdate: () => [T.p, T.gr, T.m1, sgd],
  adamUpdate: () => [T.p, T.gr, T.m1, T.m2, T.m3, { ...adam, amsgrad: true }],
  adagradUpdate: () => [T.p, T.gr, T.m1, adagrad],
  sgdCoefficients: () => [{ ...sgd, firstStep: false }, T.co],
  adamCoefficients: () => [{ ...adam, amsgrad: true }, T.co],
  adagradCoefficients: () => [adagrad, T.co],
  sgdUpdateMulti: () => [[T.p, T.q], [T.gr, T.qg], [T.m1, T.q1], T.co],
  adamUpdateMulti: () => [[T.p, T.q], [T.gr, T.qg], [T.m1, T.q1], [T.m2, T.q2], [T.m3, T.q3], T.co],
  adagradUpdateMulti: () => [[T.p, T.q], [T.gr, T.qg], [T.m1, T.q1], T.co],
  loadBatch: () => [T.ds, T.ix, T.out, batch, T.seed],
  gatherLabels: () => [T.lab8, T.ix, T.outl],
};

// ---- part 1: a table of malformed calls, each must throw an Error whose message starts with the op's name
const E = /^/;
const table: [string, () => unknown, RegExp][] = [
  ['empty', () => native.empty('cpu', [2 ** 40], 'float32'), /^empty: shape\[0\] = 1099511627776 is larger than/],
  ['empty', () => native.empty('cpu', [2 ** 39], 'uint8'), /^empty: cannot allocate 549755813888 bytes on the cpu for uint8 \[549755813888\]/],
  ['empty', () => native.empty('cpu', [2 ** 20, 2 ** 19], 'float32'), /^empty: cannot allocate \d+ bytes/],
  ['empty', () => native.empty('cpu', [2 ** 20, 2 ** 20, 2], 'uint8'), /^empty: shape has more than 2\^40 elements/],
  ['empty', () => native.empty('cpu', [2 ** 40, 0], 'uint8'), /^empty: shape\[0\] = 1099511627776 is larger than/],
  ['empty', () => native.empty('cpu', [-1, 3], 'float32'), /^empty: shape\[0\] must be a non-negative integer, got -1/],
  ['empty', () => native.empty('cpu', [NaN], 'float32'), /^empty: shape\[0\] must be a non-negative integer/],
  ['empty', () => native.empty('cpu', [Infinity], 'float32'), /^empty: shape\[0\] must be a non-negative integer/],
  ['empty', () => native.empty('cpu', [1.5], 'float32'), /^empty: shape\[0\] must be a non-negative integer, got 1.5/],
  ['empty', () => native.empty('cpu', ['3' as unknown as number], 'float32'), /^empty: shape\[0\] must be a number, got string/],
  ['empty', () => native.empty('cpu', [1, 1, 1, 1, 1, 1, 1, 1, 1], 'float32'), /^empty: shape has 9 dimensions/],
  ['empty', () => native.empty('cpu', 3 as unknown as number[], 'float32'), /^empty: shape \(argument 2\) must be an array/],
  ['empty', () => native.empty('tpu' as 'cpu', [1], 'float32'), /^empty: device must be 'cpu' or 'cuda', got 'tpu'/],
  ['empty', () => native.empty('cpu', [1], 'float64' as 'float32'), /^empty: dtype must be/],
  ['empty', () => native.empty('cpu', [2, 3], 'float32', 'nChw16c'), /^empty: layout nChw16c needs a 4-D NCHW shape/],
  ['empty', () => native.empty('cpu', [2, 16, 2, 2], 'uint8', 'nChw16c'), /^empty: layout nChw16c is for float32/],
  // tensors of another backend cannot exist here (no GPU): asking for one throws instead
  ['empty', () => native.empty('cuda', [4], 'float32'), /^empty: the cuda backend /],
  ['fromArray', () => native.fromArray('cuda', [1], Float32Array.of(1)), /^fromArray: the cuda backend /],
  ['fromArray', () => native.fromArray('cpu', [3], Float32Array.of(1, 2)), /^fromArray: /],
  ['fromArray', () => native.fromArray('cpu', [2], new Float64Array(2) as unknown as Float32Array), /^fromArray: data must be/],
  ['fromArray', () => native.fromArray('cpu', [2], [1, 2] as unknown as Float32Array), /^fromArray: data must be/],
  ['fromArray', () => native.fromArray('cpu', [2 ** 40], Float32Array.of(1)), /^fromArray: /],
  ['fromArray', () => native.fromArray('cpu', [2], Float32Array.of(1, 2), 'int32'), /^fromArray: /],
  ['toArray', () => native.toArray(gone), /^toArray: tensor \(argument 1\) was disposed/],
  ['toArray', () => native.toArray({ shape: [1], dtype: 'float32', device: 'cpu' } as unknown as NativeTensor), /^toArray: tensor \(argument 1\) must be a Tensor, got object/],
  ['copy', () => native.copy(T.ex, gone), /^copy: dst \(argument 2\) was disposed/],
  ['copy', () => native.copy(T.ex, T.lx), /^copy: /],
  ['write', () => native.write(T.lx, new Float32Array(14)), /^write: /],
  ['write', () => native.write(T.lx, new Int32Array(15)), /^write: /],
  ['write', () => native.write(gone, new Float32Array(512)), /^write: dst \(argument 1\) was disposed/],
  ['fill', () => native.fill(T.labels, NaN), /^fill: /],
  ['fill', () => native.fill(gone, 1), /^fill: tensor \(argument 1\) was disposed/],
  ['fill', () => native.fill(T.ez, 'x' as unknown as number), /^fill: value must be a number, got string/],
  ['reshape', () => gone.reshape([512]), /^reshape: tensor was disposed/],
  ['reshape', () => T.ex.reshape([-1, -1]), /^reshape: /],
  ['reshape', () => T.ex.reshape([7, -1]), /^reshape: /],
  ['reshape', () => T.ex.reshape([2 ** 40, 0]), /^reshape: /],
  ['reshape', () => T.ex.reshape([NaN]), /^reshape: /],
  ['preferredLayout', () => native.preferredLayout('cpu', [-3, 16, 2, 2]), /^preferredLayout: /],
  ['liveBytes', () => native.liveBytes('gpu' as 'cpu'), /^liveBytes: /],
  ['setThreads', () => native.setThreads(-1), /^setThreads: /],
  ['setThreads', () => native.setThreads(NaN), /^setThreads: /],
  ['setThreads', () => native.setThreads(1e9), /^setThreads: /],
  ['conv2dForward', () => n.conv2dForward(T.cx, T.cw, T.cb, T.cy, { ...conv, padH: NaN }, false), /^conv2dForward: option padH must be finite/],
  ['conv2dForward', () => n.conv2dForward(T.cx, T.cw, T.cb, T.cy, { ...conv, strideW: Infinity }, false), /^conv2dForward: option strideW must be finite/],
  ['conv2dForward', () => n.conv2dForward(T.cx, T.cw, T.cb, T.cy, { ...conv, strideH: 2 ** 40 }, false), /^conv2dForward: option strideH must be in/],
  ['conv2dForward', () => n.conv2dForward(T.cx, gone, T.cb, T.cy, conv, false), /^conv2dForward: w \(argument 2\) was disposed/],
  ['conv2dBackwardFilter', () => n.conv2dBackwardFilter(T.cx, T.cdy, T.cdw, gone, conv), /^conv2dBackwardFilter: db \(argument 4\) was disposed/],
  ['linearForward', () => n.linearForward(T.lx, T.lw, T.lb, gone, false), /^linearForward: y \(argument 4\) was disposed/],
  ['linearForward', () => n.linearForward(T.lx, T.lw, T.lb, T.ly, 'no'), /^linearForward: fuseRelu \(argument 5\) must be a boolean/],
  ['linearBackward', () => n.linearBackward(T.lx, T.lw, T.ldy, T.ldx, T.ldw, T.ldw), /^linearBackward: /],
  ['maxPool2dForward', () => n.maxPool2dForward(T.px, T.py, ws, { ...pool, kernelW: NaN }), /^maxPool2dForward: option kernelW must be finite/],
  ['maxPool2dForward', () => n.maxPool2dForward(T.px, T.py, ws, { ...pool, strideH: -2 }), /^maxPool2dForward: option strideH must be in/],
  ['dropoutForward', () => n.dropoutForward(T.ex, T.mask, T.ey, Infinity, 1), /^dropoutForward: p must be finite/],
  ['dropoutForward', () => n.dropoutForward(T.ex, T.mask, T.ey, 0.5, NaN), /^dropoutForward: seed /],
  ['dropoutForward', () => n.dropoutForward(T.ex, T.mask, T.ey, -0.1, 1), /^dropoutForward: p must be in \[0, 1\)/],
  ['axpby', () => n.axpby(T.ex, T.ez, 1, NaN), /^axpby: beta must be finite/],
  ['batchNorm2dForward', () => n.batchNorm2dForward(T.ex, T.g, T.b, T.rm, T.rv, T.ey, T.sm, T.si, { ...bn, eps: Infinity }), /^batchNorm2dForward: /],
  ['batchNorm2dForward', () => n.batchNorm2dForward(T.ex, T.g, T.b, T.rm, T.rv, T.ey, T.sm, T.si, { ...bn, momentum: NaN }), /^batchNorm2dForward: option momentum must be finite/],
  ['batchNorm2dBackward', () => n.batchNorm2dBackward(T.ex, T.ez, T.g, T.sm, T.si, T.ey, T.dg, T.db, NaN), /^batchNorm2dBackward: /],
  ['batchNorm2dBackward', () => n.batchNorm2dBackward(T.ex, T.ez, T.g, T.sm, T.si, T.ey, T.dg, T.db, -1), /^batchNorm2dBackward: /],
  ['softmaxCrossEntropy', () => n.softmaxCrossEntropy(T.logits, T.labels, null, T.acc, NaN, false), /^softmaxCrossEntropy: labelSmoothing must be finite/],
  ['softmaxCrossEntropy', () => n.softmaxCrossEntropy(T.logits, gone, null, T.acc, 0, false), /^softmaxCrossEntropy: labels \(argument 2\) was disposed/],
  ['softmax', () => n.softmax(T.logits, T.p), /^softmax: /],
  ['softmax', () => n.softmax(T.logits), /^softmax: expected 2 arguments, got 1/],
  ['sgdUpdate', () => n.sgdUpdate(T.p, T.gr, T.m1, { ...sgd, lr: NaN }), /^sgdUpdate: option lr must be finite/],
  ['sgdUpdate', () => n.sgdUpdate(T.p, T.gr, T.m1, { ...sgd, momentum: Infinity }), /^sgdUpdate: option momentum must be finite/],
  ['sgdUpdate', () => n.sgdUpdate(T.p, T.gr, T.m1, { ...sgd, weightDecay: -Infinity }), /^sgdUpdate: option weightDecay must be finite/],
  ['adamUpdate', () => n.adamUpdate(T.p, T.gr, T.m1, T.m2, null, { ...adam, lr: Infinity }), /^adamUpdate: option lr must be finite/],
  ['adamUpdate', () => n.adamUpdate(T.p, T.gr, T.m1, T.m2, null, { ...adam, beta2: NaN }), /^adamUpdate: option beta2 must be finite/],
  ['adamUpdate', () => n.adamUpdate(T.p, T.gr, T.m1, T.m2, null, { ...adam, step: 2 ** 60 }), /^adamUpdate: option step must be in/],
  ['adamUpdate', () => n.adamUpdate(T.p, T.gr, T.m1, T.m1, null, adam), /^adamUpdate: /],
  ['adagradUpdate', () => n.adagradUpdate(T.p, T.gr, T.m1, { ...adagrad, lr: NaN }), /^adagradUpdate: option lr must be finite/],
  ['adagradUpdate', () => n.adagradUpdate(T.p, T.gr, gone, adagrad), /^adagradUpdate: stateSum \(argument 3\) was disposed/],
  ['loadBatch', () => n.loadBatch(T.ds, T.ix, T.out, { ...batch, scale: NaN }), /^loadBatch: option scale must be finite/],
  ['loadBatch', () => n.loadBatch(T.ds, T.ix, T.out, { ...batch, mean: [NaN, 0, 0] }), /^loadBatch: /],
  ['loadBatch', () => n.loadBatch(T.ds, T.ix, T.out, { ...batch, std: [Infinity, 1, 1] }), /^loadBatch: /],
  ['loadBatch', () => n.loadBatch(T.ds, T.ix, T.out, { ...batch, seed: 2 ** 60 }), /^loadBatch: option seed must be in/],
  ['loadBatch', () => n.loadBatch(T.ds, T.ix, T.out, { ...batch, mean: 'abc' }), /^loadBatch: /],
  ['gatherLabels', () => n.gatherLabels(T.lab8, T.ix, gone), /^gatherLabels: out \(argument 3\) was disposed/],
];
void E;

interface Outcome { table: number; tableFailures: string[]; random: number; randomFailures: string[]; accepted: number; byOp: Record<string, [number, number]> }
const res: Outcome = { table: table.length, tableFailures: [], random: 0, randomFailures: [], accepted: 0, byOp: {} };

table.forEach(([op, call, msg], k) => {
  note(`table ${k}: ${op} ${msg.source}`);
  try {
    const r = call();
    if (r && typeof (r as NativeTensor).dispose === 'function') (r as NativeTensor).dispose();
    res.tableFailures.push(`${k} ${op}: did not throw (${msg.source})`);
  } catch (e) {
    if (!(e instanceof Error) || !msg.test(e.message)) res.tableFailures.push(`${k} ${op}: ${(e as Error)?.name}: ${(e as Error)?.message} (wanted ${msg.source})`);
  }
});

// A view outlives the tensor it was made from; a tensor disposed twice is fine.
{
  const base = f32([2, 8]);
  const view = base.reshape([16]);
  base.dispose();
  base.dispose();
  const got = native.toArray(view) as Float32Array;
  if (got.length !== 16 || Math.abs(got[1] - Math.sin(1.7) * 0.5) > 1e-6) res.tableFailures.push('view after dispose of its base: wrong data');
  view.dispose();
}

// ---- part 2: random corruptions of valid calls
const rng = new Rng(arg('seed', 1));
const pick = <T>(xs: readonly T[]): T => xs[rng.nextInt(xs.length)];
const tensors = () => Object.values(T) as NativeTensor[];
const SCALARS: unknown[] = [NaN, Infinity, -Infinity, -1, 0, 1, 0.5, 2 ** 31, 2 ** 40, 2 ** 53, -(2 ** 53), 1e308, -0, 3.7];
const OTHERS: unknown[] = [null, undefined, true, false, 'cpu', 'float32', '', {}, [], [1, 2], [2 ** 40], [-1], [NaN], () => 1, Symbol('s'),
  new Float32Array(3), new Uint8Array(0), { shape: [1], dtype: 'float32', device: 'cpu', layout: 'plain', size: 1, disposed: false }, gone, 10n];

function corruptValue(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(ArrayBuffer.isView(v)) && !('dispose' in (v as object))) {
    // an options object: one field wrong, or missing
    const o = { ...(v as Record<string, unknown>) };
    if (Object.keys(o).length === 0) return pick(SCALARS);
    const k = pick(Object.keys(o));
    if (rng.nextInt(5) === 0) delete o[k];
    else o[k] = pick([...SCALARS, ...OTHERS, [0.5, NaN, 1], [1, 1, 1, 1]]);
    return o;
  }
  switch (rng.nextInt(4)) {
    case 0: return pick(tensors());
    case 1: return pick(SCALARS);
    case 2: return pick(OTHERS);
    default: return Array.isArray(v) ? v.map((d) => (rng.nextInt(3) ? d : pick(SCALARS))) : pick(tensors());
  }
}

const ops = Object.keys(VALID);
const calls = arg('calls', 3000);
for (let c = 0; c < calls; c++) {
  const op = pick(ops);
  let args = VALID[op]();
  const k = rng.nextInt(8);
  if (k === 0) args = args.slice(0, rng.nextInt(args.length + 1));
  else if (k === 1) args = [...args, pick(OTHERS)];
  else {
    const times = 1 + rng.nextInt(2);
    for (let t = 0; t < times; t++) {
      const i = rng.nextInt(args.length);
      args[i] = corruptValue(args[i]);
    }
  }
  note(`random ${c}: ${op}`);
  res.byOp[op] ??= [0, 0];
  try {
    const r = n[op](...args);
    if (r && typeof (r as NativeTensor).dispose === 'function') (r as NativeTensor).dispose();
    res.accepted++;
    res.byOp[op][0]++;
  } catch (e) {
    res.byOp[op][1]++;
    if (!(e instanceof Error) || !e.message.startsWith(`${op}: `)) {
      if (res.randomFailures.length < 30) res.randomFailures.push(`${c} ${op}: ${(e as Error)?.name}: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
    } else if (/\[object|Cannot read prop/.test(e.message)) {
      if (res.randomFailures.length < 30) res.randomFailures.push(`${c} ${op}: unclear: ${e.message.slice(0, 200)}`);
    }
  }
  res.random++;
}

// Every op still answers correctly after all of that.
{
  const y = keep(native.empty('cpu', [2, 16, 4, 4], 'float32'));
  native.fill(T.ez, -1);
  native.reluForward(T.ez, y);
  if (!(native.toArray(y) as Float32Array).every((v) => v === 0)) res.tableFailures.push('reluForward wrong after the fuzz');
}
for (const t of made) t.dispose();
if (native.liveBytes('cpu') !== 0) res.tableFailures.push(`native.liveBytes('cpu') = ${native.liveBytes('cpu')} after disposing every tensor`);
process.stdout.write(JSON.stringify(res) + '\n');
process.exitCode = res.tableFailures.length || res.randomFailures.length ? 1 : 0;

// conv2d forward / backward-data / backward-filter against the float64 reference, in plain and blocked
// layouts; the reference backwards against finite differences; weight-version caching; memory.
import { describe, expect, it } from 'vitest';
import { native, type Device, type Layout, type NativeTensor } from '../../lib/backend.js';
import { dot, expectClose, f32, finiteDiff, rand, tensorIn, testDevices } from '../helpers/check.js';
import { convBackwardDataRef, convBackwardFilterRef, convForwardRef, convOut, type ConvShape } from '../ref/conv.js';

const TOL = 1e-4;

function shape(N: number, C: number, H: number, W: number, O: number, kh: number, kw: number, strideH: number, strideW: number,
  padH: number, padW: number): ConvShape {
  return { N, C, H, W, O, kh, kw, strideH, strideW, padH, padW };
}

const CASES: ConvShape[] = [
  shape(1, 1, 7, 9, 3, 3, 3, 1, 1, 1, 1),
  shape(3, 3, 11, 10, 8, 5, 5, 2, 2, 2, 2),
  shape(2, 16, 6, 5, 16, 3, 3, 1, 1, 1, 1),
  shape(3, 8, 9, 9, 24, 1, 1, 2, 2, 0, 0),
  shape(1, 20, 5, 7, 12, 3, 3, 2, 2, 0, 0),
  shape(2, 32, 4, 4, 32, 3, 3, 1, 1, 2, 2),
  shape(1, 5, 8, 6, 7, 3, 1, 1, 2, 1, 0),
  shape(3, 3, 32, 32, 64, 3, 3, 1, 1, 1, 1),
  // 2x2 outputs with >= 256 input channels: backward-filter goes through im2col + GEMM (conv_gemm.cc)
  shape(2, 256, 2, 2, 16, 3, 3, 1, 1, 1, 1),
  shape(1, 260, 3, 4, 9, 3, 3, 2, 2, 1, 1),
];

type LayoutMode = 'plain' | 'preferred' | 'nChw8c' | 'nChw16c';
// Blocked layouts are the CPU backend's; other devices get plain and their preferred layout.
const modesFor = (device: Device): LayoutMode[] => (device === 'cpu' ? ['plain', 'preferred', 'nChw8c', 'nChw16c'] : ['plain', 'preferred']);

function layoutFor(device: Device, mode: LayoutMode, dims: number[]): Layout {
  if (mode === 'preferred') return native.preferredLayout(device, dims);
  return mode;
}

/** A tensor holding `data` (plain order) stored in `layout`. */
const values = (t: NativeTensor): Float32Array => native.toArray(t) as Float32Array;
const params = (s: ConvShape) => ({ strideH: s.strideH, strideW: s.strideW, padH: s.padH, padW: s.padW });
const label = (s: ConvShape) =>
  `x[${s.N},${s.C},${s.H},${s.W}] w[${s.O},${s.C},${s.kh},${s.kw}] s${s.strideH}x${s.strideW} p${s.padH}x${s.padW}`;

describe.each(testDevices())('conv2d on %s', (device) => {
  describe.each(CASES.map((s) => [label(s), s] as const))('%s', (_name, s) => {
    const { Ho, Wo } = convOut(s);
    const xd = [s.N, s.C, s.H, s.W], wd = [s.O, s.C, s.kh, s.kw], yd = [s.N, s.O, Ho, Wo];
    const seed = s.N * 1000 + s.C * 100 + s.H;
    const x = rand(s.N * s.C * s.H * s.W, seed);
    const w = rand(s.O * s.C * s.kh * s.kw, seed + 1, -0.5, 0.5);
    const b = rand(s.O, seed + 2);
    const dy = rand(s.N * s.O * Ho * Wo, seed + 3);

    it.each(modesFor(device))('forward, backward-data and backward-filter in %s layouts', (mode) => {
      const xl = layoutFor(device, mode, xd), yl = layoutFor(device, mode, yd);
      const X = tensorIn(device, xd, x, xl), W = tensorIn(device, wd, w, 'plain'), B = tensorIn(device, [s.O], b, 'plain');
      const Y = native.empty(device, yd, 'float32', yl);
      for (const [bias, relu] of [[true, true], [false, false], [true, false]] as const) {
        native.conv2dForward(X, W, bias ? B : null, Y, params(s), relu);
        expectClose(values(Y), convForwardRef(s, x, w, bias ? b : null, relu), TOL, `forward bias=${bias} relu=${relu} (${mode})`);
      }
      const DY = tensorIn(device, yd, dy, yl), DX = native.empty(device, xd, 'float32', xl);
      native.conv2dBackwardData(DY, W, DX, params(s));
      expectClose(values(DX), convBackwardDataRef(s, dy, w), TOL, `backward-data (${mode})`);
      const DW = native.empty(device, wd, 'float32'), DB = native.empty(device, [s.O], 'float32');
      native.fill(DW, 123);  // must be overwritten, not accumulated into
      native.fill(DB, 123);
      const ref = convBackwardFilterRef(s, x, dy);
      native.conv2dBackwardFilter(X, DY, DW, DB, params(s));
      expectClose(values(DW), ref.dw, TOL, `backward-filter dw (${mode})`);
      expectClose(values(DB), ref.db, TOL, `backward-filter db (${mode})`);
      native.fill(DW, -5);
      native.conv2dBackwardFilter(X, DY, DW, null, params(s));
      expectClose(values(DW), ref.dw, TOL, `backward-filter dw without db (${mode})`);
      for (const t of [X, W, B, Y, DY, DX, DW, DB]) t.dispose();
    });
  });

  it.runIf(device === 'cpu')('mixes layouts between input and output (nChw8c in, nChw16c out, and back)', () => {
    const s = shape(2, 16, 7, 5, 32, 3, 3, 2, 1, 1, 1);
    const { Ho, Wo } = convOut(s);
    const xd = [s.N, s.C, s.H, s.W], yd = [s.N, s.O, Ho, Wo];
    const x = rand(s.N * s.C * s.H * s.W, 61), w = rand(s.O * s.C * 9, 62), dy = rand(s.N * s.O * Ho * Wo, 63);
    const X = tensorIn(device, xd, x, 'nChw8c'), W = tensorIn(device, [s.O, s.C, 3, 3], w, 'plain');
    const Y = native.empty(device, yd, 'float32', 'nChw16c');
    native.conv2dForward(X, W, null, Y, params(s), true);
    expectClose(values(Y), convForwardRef(s, x, w, null, true), TOL, 'forward nChw8c -> nChw16c');
    const DY = tensorIn(device, yd, dy, 'nChw16c'), DX = native.empty(device, xd, 'float32', 'plain');
    native.conv2dBackwardData(DY, W, DX, params(s));
    expectClose(values(DX), convBackwardDataRef(s, dy, w), TOL, 'backward-data nChw16c -> plain');
    const DW = native.empty(device, [s.O, s.C, 3, 3], 'float32');
    native.conv2dBackwardFilter(X, DY, DW, null, params(s));
    expectClose(values(DW), convBackwardFilterRef(s, x, dy).dw, TOL, 'backward-filter from nChw8c x and nChw16c dy');
    for (const t of [X, W, Y, DY, DX, DW]) t.dispose();
  });

  it('matches the reference on 30 seeded random configurations (pads larger than kernels, strides larger than kernels)', () => {
    let state = 12345;
    const r = (n: number) => { state = (state * 1103515245 + 12345) % 2147483648; return state % n; };
    const layouts: Layout[] = device === 'cpu' ? ['plain', 'nChw8c', 'nChw16c'] : ['plain'];
    for (let done = 0, k = 0; done < 30; k++) {
      const s = shape(1 + r(3), 1 + r(20), 1 + r(9), 1 + r(9), 1 + r(20), 1 + r(5), 1 + r(5), 1 + r(4), 1 + r(4), r(7), r(7));
      if (s.kh > s.H + 2 * s.padH || s.kw > s.W + 2 * s.padW) continue;
      done++;
      const { Ho, Wo } = convOut(s);
      const xd = [s.N, s.C, s.H, s.W], yd = [s.N, s.O, Ho, Wo], wd = [s.O, s.C, s.kh, s.kw];
      const xl = layouts[r(layouts.length)], yl = layouts[r(layouts.length)], relu = k % 2 === 0;
      const x = rand(s.N * s.C * s.H * s.W, k), w = rand(s.O * s.C * s.kh * s.kw, k + 1), b = rand(s.O, k + 2), dy = rand(s.N * s.O * Ho * Wo, k + 3);
      const X = tensorIn(device, xd, x, xl), W = tensorIn(device, wd, w, 'plain'), B = tensorIn(device, [s.O], b, 'plain');
      const DY = tensorIn(device, yd, dy, yl), Y = native.empty(device, yd, 'float32', yl), DX = native.empty(device, xd, 'float32', xl);
      const DW = native.empty(device, wd, 'float32'), DB = native.empty(device, [s.O], 'float32');
      const what = `${label(s)} x:${xl} y:${yl}`;
      native.conv2dForward(X, W, B, Y, params(s), relu);
      expectClose(values(Y), convForwardRef(s, x, w, b, relu), TOL, `forward ${what}`);
      native.conv2dBackwardData(DY, W, DX, params(s));
      expectClose(values(DX), convBackwardDataRef(s, dy, w), TOL, `backward-data ${what}`);
      native.conv2dBackwardFilter(X, DY, DW, DB, params(s));
      const ref = convBackwardFilterRef(s, x, dy);
      expectClose(values(DW), ref.dw, TOL, `backward-filter dw ${what}`);
      expectClose(values(DB), ref.db, TOL, `backward-filter db ${what}`);
      for (const t of [X, W, B, DY, Y, DX, DW, DB]) t.dispose();
    }
  });

  it('the forward uses new weights after write() and fill() (reordered-weight cache follows versions)', () => {
    const s = shape(2, 16, 6, 6, 32, 3, 3, 1, 1, 1, 1);
    const { Ho, Wo } = convOut(s);
    const xd = [s.N, s.C, s.H, s.W], wd = [s.O, s.C, 3, 3], yd = [s.N, s.O, Ho, Wo];
    const x = rand(s.N * s.C * s.H * s.W, 71), w1 = rand(s.O * s.C * 9, 72), w2 = rand(s.O * s.C * 9, 73), dy = rand(s.N * s.O * Ho * Wo, 74);
    const X = tensorIn(device, xd, x, native.preferredLayout(device, xd));
    const W = tensorIn(device, wd, w1, 'plain'), W2 = tensorIn(device, wd, w2, 'plain');
    const Y = native.empty(device, yd, 'float32', native.preferredLayout(device, yd));
    const DY = tensorIn(device, yd, dy, native.preferredLayout(device, yd));
    const DX = native.empty(device, xd, 'float32', native.preferredLayout(device, xd));
    const p = params(s);
    native.conv2dForward(X, W, null, Y, p, false);
    expectClose(values(Y), convForwardRef(s, x, w1, null), TOL, 'forward with w1');
    native.conv2dBackwardData(DY, W, DX, p);
    expectClose(values(DX), convBackwardDataRef(s, dy, w1), TOL, 'backward-data with w1');
    native.write(W, f32(w2));
    native.conv2dForward(X, W, null, Y, p, false);
    expectClose(values(Y), convForwardRef(s, x, w2, null), TOL, 'forward after write');
    native.conv2dBackwardData(DY, W, DX, p);
    expectClose(values(DX), convBackwardDataRef(s, dy, w2), TOL, 'backward-data after write');
    native.fill(W, 0.25);
    native.conv2dForward(X, W, null, Y, p, false);
    expectClose(values(Y), convForwardRef(s, x, new Float64Array(w1.length).fill(0.25), null), TOL, 'forward after fill');
    // A second weight tensor of the same shape shares the primitive but not the reordered weights.
    native.conv2dForward(X, W2, null, Y, p, false);
    expectClose(values(Y), convForwardRef(s, x, w2, null), TOL, 'forward with another weight tensor');
    for (const t of [X, W, W2, Y, DY, DX]) t.dispose();
  });

  it('1,000 forward+backward calls leave RSS and liveBytes flat', () => {
    const s = shape(2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1);
    const xd = [2, 16, 8, 8], wd = [16, 16, 3, 3];
    const l = native.preferredLayout(device, xd);
    const before = native.liveBytes(device);
    const X = tensorIn(device, xd, rand(2048, 81), l), DY = tensorIn(device, xd, rand(2048, 82), l);
    const Y = native.empty(device, xd, 'float32', l), DX = native.empty(device, xd, 'float32', l);
    const DW = native.empty(device, wd, 'float32'), DB = native.empty(device, [16], 'float32');
    const B = tensorIn(device, [16], rand(16, 83), 'plain');
    const wData = f32(rand(16 * 16 * 9, 84));
    let W = tensorIn(device, wd, wData, 'plain');
    const step = (k: number) => {
      if (k % 100 === 0) {  // fresh weight storage: the old one's cached reorders must go with it
        W.dispose();
        W = tensorIn(device, wd, wData, 'plain');
      } else if (k % 10 === 0) native.write(W, wData);
      native.conv2dForward(X, W, B, Y, params(s), true);
      native.conv2dBackwardData(DY, W, DX, params(s));
      native.conv2dBackwardFilter(X, DY, DW, DB, params(s));
    };
    for (let k = 0; k < 100; k++) step(k);
    const live0 = native.liveBytes(device);
    const rss0 = process.memoryUsage().rss;
    for (let k = 0; k < 1000; k++) step(k);
    expect(native.liveBytes(device)).toBe(live0);
    expect(process.memoryUsage().rss).toBeLessThan(rss0 * 1.05);
    for (const t of [X, DY, Y, DX, DW, DB, B, W]) t.dispose();
    expect(native.liveBytes(device)).toBe(before);
  });
});

describe('conv2d float64 reference', () => {
  it.each([shape(1, 2, 5, 4, 3, 3, 3, 2, 2, 1, 1), shape(2, 1, 4, 6, 2, 2, 3, 1, 2, 0, 1)])(
    'backwards match central finite differences (%o)', (s) => {
      const { Ho, Wo } = convOut(s);
      const x = rand(s.N * s.C * s.H * s.W, 91), w = rand(s.O * s.C * s.kh * s.kw, 92), b = rand(s.O, 93);
      const g = rand(s.N * s.O * Ho * Wo, 94);
      const gx = finiteDiff((v) => dot(convForwardRef(s, v, w, b), g), x);
      const gw = finiteDiff((v) => dot(convForwardRef(s, x, v, b), g), w);
      const gb = finiteDiff((v) => dot(convForwardRef(s, x, w, v), g), b);
      const { dw, db } = convBackwardFilterRef(s, x, g);
      expectClose(convBackwardDataRef(s, g, w), gx, 1e-7, 'dx');
      expectClose(dw, gw, 1e-7, 'dw');
      expectClose(db, gb, 1e-7, 'db');
    });
});

describe('conv2d rejects malformed calls', () => {
  const d: Device = 'cpu';
  const t = (dims: number[], dtype: 'float32' | 'int32' = 'float32', layout: Layout = 'plain') => native.empty(d, dims, dtype, layout);
  const x = t([2, 3, 8, 8]), w = t([4, 3, 3, 3]), b = t([4]), y = t([2, 4, 8, 8]), p = { strideH: 1, strideW: 1, padH: 1, padW: 1 };
  const dw = t([4, 3, 3, 3]), dx = t([2, 3, 8, 8]), dy = t([2, 4, 8, 8]);
  const gone = t([2, 3, 8, 8]);
  gone.dispose();
  const xi = t([2, 3, 8, 8], 'int32'), wBlocked = t([4, 3, 3, 3], 'float32', 'nChw8c');
  const dw1 = t([4, 1, 1, 1]), p0 = { strideH: 1, strideW: 1, padH: 0, padW: 0 };
  const any = native as unknown as Record<string, (...a: unknown[]) => void>;
  const table: [string, () => void, ErrorConstructor, RegExp][] = [
    ['too few arguments', () => any.conv2dForward(x, w, b, y, p), TypeError, /^conv2dForward: expected 6 arguments, got 5/],
    ['x not a tensor', () => any.conv2dForward([1, 2], w, b, y, p, false), TypeError, /^conv2dForward: x \(argument 1\) must be a Tensor, got array/],
    ['disposed x', () => any.conv2dForward(gone, w, b, y, p, false), TypeError, /^conv2dForward: x \(argument 1\) was disposed/],
    ['int32 x', () => any.conv2dForward(xi, w, b, y, p, false), TypeError, /^conv2dForward: x must be float32 or bfloat16, got int32\[2,3,8,8\]/],
    ['3-D x', () => any.conv2dForward(t([3, 8, 8]), w, b, y, p, false), RangeError, /^conv2dForward: x must have 4 dimensions, got float32\[3,8,8\]/],
    ['channel mismatch', () => any.conv2dForward(x, t([4, 4, 3, 3]), b, y, p, false), RangeError,
      /^conv2dForward: w must have shape \[4,3,3,3\], got float32\[4,4,3,3\]/],
    ['wrong bias size', () => any.conv2dForward(x, w, t([5]), y, p, false), RangeError, /^conv2dForward: b must have shape \[4\], got float32\[5\]/],
    ['wrong output size', () => any.conv2dForward(x, w, b, t([2, 4, 6, 6]), p, false), RangeError,
      /^conv2dForward: y must have shape \[2,4,8,8\], got float32\[2,4,6,6\]/],
    ['stride 0', () => any.conv2dForward(x, w, b, y, { ...p, strideH: 0 }, false), RangeError, /^conv2dForward: option strideH must be in \[1, /],
    ['negative pad', () => any.conv2dForward(x, w, b, y, { ...p, padW: -1 }, false), RangeError, /^conv2dForward: option padW must be in \[0, /],
    ['fractional stride', () => any.conv2dForward(x, w, b, y, { ...p, strideW: 1.5 }, false), RangeError, /^conv2dForward: option strideW must be an integer/],
    ['missing option', () => any.conv2dForward(x, w, b, y, { strideH: 1, strideW: 1, padH: 1 }, false), TypeError,
      /^conv2dForward: option padW must be a number, got undefined/],
    ['kernel larger than padded input', () => any.conv2dForward(t([1, 3, 2, 2]), t([4, 3, 5, 5]), null, t([1, 4, 1, 1]), { ...p, padH: 0, padW: 0 }, false),
      RangeError, /^conv2dForward: kernel 5x5 is larger than the padded input 2x2/],
    ['fuseRelu not boolean', () => any.conv2dForward(x, w, b, y, p, 1), TypeError, /^conv2dForward: fuseRelu \(argument 6\) must be a boolean, got number/],
    ['blocked weights', () => any.conv2dForward(x, wBlocked, b, y, p, false), RangeError,
      /^conv2dForward: w must be in plain layout, got float32\[4,3,3,3\] \(nChw8c\)/],
    ['output aliases input', () => any.conv2dForward(y, t([4, 4, 3, 3]), null, y, p, false), RangeError, /^conv2dForward: y and x must not share storage/],
    ['options not an object', () => any.conv2dForward(x, w, b, y, 3, false), TypeError, /^conv2dForward: p \(argument 5\) must be an options object, got number/],
    ['backward-data wrong dy', () => any.conv2dBackwardData(t([2, 4, 7, 8]), w, dx, p), RangeError,
      /^conv2dBackwardData: dy must have shape \[2,4,8,8\], got float32\[2,4,7,8\]/],
    ['backward-data channel mismatch', () => any.conv2dBackwardData(dy, w, t([2, 5, 8, 8]), p), RangeError,
      /^conv2dBackwardData: w must have shape \[4,5,3,3\], got float32\[4,3,3,3\]/],
    ['backward-data aliasing', () => any.conv2dBackwardData(dy, t([4, 4, 3, 3]), dy.reshape([2, 4, 8, 8]), p), RangeError,
      /^conv2dBackwardData: dx and dy must not share storage/],
    ['backward-data too many arguments', () => any.conv2dBackwardData(dy, w, dx, p, false), TypeError, /^conv2dBackwardData: expected 4 arguments, got 5/],
    ['backward-filter wrong dw', () => any.conv2dBackwardFilter(x, dy, t([4, 3, 5, 5]), b, p), RangeError,
      /^conv2dBackwardFilter: dy must have shape \[2,4,6,6\], got float32\[2,4,8,8\]/],
    ['backward-filter wrong db', () => any.conv2dBackwardFilter(x, dy, dw, t([3]), p), RangeError, /^conv2dBackwardFilter: db must have shape \[4\], got float32\[3\]/],
    ['backward-filter db is dw', () => any.conv2dBackwardFilter(x, dy, dw, dw, p), RangeError, /^conv2dBackwardFilter: db must have shape \[4\]/],
    ['backward-filter db aliases dw', () => any.conv2dBackwardFilter(t([2, 1, 8, 8]), dy, dw1, dw1.reshape([4]), p0), RangeError,
      /^conv2dBackwardFilter: db and dw must not share storage/],
    ['backward-filter wrong device name in tensor slot', () => any.conv2dBackwardFilter(x, 'cpu', dw, b, p), TypeError,
      /^conv2dBackwardFilter: dy \(argument 2\) must be a Tensor, got string/],
  ];
  it('has at least 15 cases', () => expect(table.length).toBeGreaterThanOrEqual(15));
  it.each(table)('%s', (_name, call, type, message) => {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });
});

// linearForward / linearBackward against the float64 reference; the reference backward against
// finite differences; malformed calls.
import { describe, expect, it } from 'vitest';
import { native, type Device, type NativeTensor } from '../../lib/backend.js';
import { dot, expectClose, f32, finiteDiff, rand, testDevices } from '../helpers/check.js';
import { linearBackwardRef, linearForwardRef } from '../ref/linear.js';

const TOL = 1e-4;
const values = (t: NativeTensor): Float32Array => native.toArray(t) as Float32Array;

describe.each(testDevices())('linear on %s', (device) => {
  const tensor = (dims: number[], data: ArrayLike<number>) => native.fromArray(device, dims, f32(data));
  it.each([[1, 1, 1], [3, 7, 5], [32, 513, 10], [5, 64, 33], [4, 16, 17]])('N=%i K=%i M=%i', (N, K, M) => {
    const seed = N * 100 + K + M;
    const x = rand(N * K, seed), w = rand(M * K, seed + 1, -0.3, 0.3), b = rand(M, seed + 2), dy = rand(N * M, seed + 3);
    const X = tensor([N, K], x), W = tensor([M, K], w), B = tensor([M], b), DY = tensor([N, M], dy);
    const Y = native.empty(device, [N, M], 'float32');
    for (const [bias, relu] of [[true, false], [true, true], [false, false], [false, true]] as const) {
      native.linearForward(X, W, bias ? B : null, Y, relu);
      expectClose(values(Y), linearForwardRef(N, K, M, x, w, bias ? b : null, relu), TOL, `forward bias=${bias} relu=${relu}`);
    }
    const ref = linearBackwardRef(N, K, M, x, w, dy);
    const DX = native.empty(device, [N, K], 'float32'), DW = native.empty(device, [M, K], 'float32'), DB = native.empty(device, [M], 'float32');
    for (const t of [DX, DW, DB]) native.fill(t, 9);  // overwritten, not accumulated into
    native.linearBackward(X, W, DY, DX, DW, DB);
    expectClose(values(DX), ref.dx, TOL, 'dx');
    expectClose(values(DW), ref.dw, TOL, 'dw');
    expectClose(values(DB), ref.db, TOL, 'db');
    native.fill(DW, -3);
    native.linearBackward(X, W, DY, null, DW, null);
    expectClose(values(DW), ref.dw, TOL, 'dw without dx and db');
    // New weights are seen by the next call.
    const w2 = rand(M * K, seed + 4);
    native.write(W, f32(w2));
    native.linearForward(X, W, B, Y, false);
    expectClose(values(Y), linearForwardRef(N, K, M, x, w2, b), TOL, 'forward after write');
    for (const t of [X, W, B, DY, Y, DX, DW, DB]) t.dispose();
  });

  it('accepts a flattened blocked 1x1 activation (reshape view)', () => {
    const N = 3, C = 32;
    const x = rand(N * C, 5), w = rand(10 * C, 6);
    const blocked = native.empty(device, [N, C, 1, 1], 'float32', native.preferredLayout(device, [N, C, 1, 1]));
    native.write(blocked, f32(x));
    const X = blocked.reshape([N, C]);
    const W = tensor([10, C], w), Y = native.empty(device, [N, 10], 'float32');
    native.linearForward(X, W, null, Y, false);
    expectClose(values(Y), linearForwardRef(N, C, 10, x, w, null), TOL, 'forward on flattened 1x1 input');
    for (const t of [blocked, X, W, Y]) t.dispose();
  });
});

describe('linear float64 reference', () => {
  it('backward matches central finite differences', () => {
    const N = 3, K = 4, M = 5;
    const x = rand(N * K, 1), w = rand(M * K, 2), b = rand(M, 3), g = rand(N * M, 4);
    const ref = linearBackwardRef(N, K, M, x, w, g);
    expectClose(ref.dx, finiteDiff((v) => dot(linearForwardRef(N, K, M, v, w, b), g), x), 1e-7, 'dx');
    expectClose(ref.dw, finiteDiff((v) => dot(linearForwardRef(N, K, M, x, v, b), g), w), 1e-7, 'dw');
    expectClose(ref.db, finiteDiff((v) => dot(linearForwardRef(N, K, M, x, w, v), g), b), 1e-7, 'db');
  });
});

describe('linear rejects malformed calls', () => {
  const d: Device = 'cpu';
  const t = (dims: number[], dtype: 'float32' | 'int32' = 'float32') => native.empty(d, dims, dtype);
  const x = t([4, 8]), w = t([3, 8]), b = t([3]), y = t([4, 3]), dy = t([4, 3]), dx = t([4, 8]), dw = t([3, 8]), db = t([3]);
  const x1 = t([1, 8]), dy1 = t([1, 3]);
  const gone = t([4, 8]);
  gone.dispose();
  const any = native as unknown as Record<string, (...a: unknown[]) => void>;
  const table: [string, () => void, ErrorConstructor, RegExp][] = [
    ['too few arguments', () => any.linearForward(x, w, b, y), TypeError, /^linearForward: expected 5 arguments, got 4/],
    ['4-D x', () => any.linearForward(t([4, 8, 1, 1]), w, b, y, false), RangeError, /^linearForward: x must have 2 dimensions, got float32\[4,8,1,1\]/],
    ['K mismatch', () => any.linearForward(x, t([3, 7]), b, y, false), RangeError, /^linearForward: w must have shape \[3,8\], got float32\[3,7\]/],
    ['wrong bias', () => any.linearForward(x, w, t([4]), y, false), RangeError, /^linearForward: b must have shape \[3\], got float32\[4\]/],
    ['wrong y', () => any.linearForward(x, w, b, t([3, 4]), false), RangeError, /^linearForward: y must have shape \[4,3\], got float32\[3,4\]/],
    ['int32 w', () => any.linearForward(x, t([3, 8], 'int32'), b, y, false), TypeError, /^linearForward: w must be float32 or bfloat16, got int32\[3,8\]/],
    ['disposed x', () => any.linearForward(gone, w, b, y, false), TypeError, /^linearForward: x \(argument 1\) was disposed/],
    ['relu flag missing', () => any.linearForward(x, w, b, y, undefined), TypeError, /^linearForward: fuseRelu \(argument 5\) must be a boolean, got undefined/],
    ['y aliases x', () => any.linearForward(x.reshape([8, 4]).reshape([4, 8]), t([8, 8]), null, x, false), RangeError, /^linearForward: y and x must not share storage/],
    ['y not a tensor', () => any.linearForward(x, w, b, 'y', false), TypeError,
      /^linearForward: y \(argument 4\) must be a Tensor, got string/],
    ['backward wrong dy', () => any.linearBackward(x, w, t([4, 4]), dx, dw, db), RangeError, /^linearBackward: dy must have shape \[4,3\], got float32\[4,4\]/],
    ['backward wrong dx', () => any.linearBackward(x, w, dy, t([4, 3]), dw, db), RangeError, /^linearBackward: dx must have shape \[4,8\], got float32\[4,3\]/],
    ['backward wrong dw', () => any.linearBackward(x, w, dy, dx, t([8, 3]), db), RangeError, /^linearBackward: dw must have shape \[3,8\], got float32\[8,3\]/],
    ['backward dw aliases w', () => any.linearBackward(x, w, dy, dx, w, db), RangeError, /^linearBackward: dw and w must not share storage/],
    ['backward db aliases dy', () => any.linearBackward(x1, w, dy1, null, dw, dy1.reshape([3])), RangeError, /^linearBackward: db and dy must not share storage/],
    ['backward too many arguments', () => any.linearBackward(x, w, dy, dx, dw, db, 1), TypeError, /^linearBackward: expected 6 arguments, got 7/],
  ];
  it.each(table)('%s', (_name, call, type, message) => {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });
});

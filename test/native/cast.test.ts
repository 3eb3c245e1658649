// cast: float32 <-> bfloat16 against a bit-level reference (round to nearest, ties to even, as
// torch.Tensor.to(torch.bfloat16)), including ties, NaN, infinities, subnormals and -0; bad calls.
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { rand, tensorIn } from '../helpers/check.js';

const bits = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0];
const fromBits = (u: number): number => new Float32Array(Uint32Array.of(u >>> 0).buffer)[0];

/** The reference: the top 16 bits after adding 0x7fff plus the lowest kept bit; NaN -> a quiet NaN. */
function toBf16Ref(x: number): number {
  const u = bits(x);
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

// Values around the rounding points: exact ties (round half to even both ways), just above and below.
const SPECIAL = [0, -0, 1, -1, Infinity, -Infinity, NaN, 3.4028234663852886e38, -3.4028234663852886e38, 1e-40, -1e-45, 1.17549435e-38,
  fromBits(0x3f808000), fromBits(0x3f818000), fromBits(0x3f808001), fromBits(0x3f807fff), fromBits(0x7f7fffff), fromBits(0xff800001)];

describe('cast float32 <-> bfloat16 (cpu)', () => {
  it('rounds to nearest even like the bit-level reference, keeps NaN, and converts back exactly', () => {
    const values = Float32Array.from([...SPECIAL, ...rand(4000, 3, -1e3, 1e3), ...rand(1000, 4, -1e-3, 1e-3)]);
    const n = values.length;
    const src = native.fromArray('cpu', [n], values), half = native.empty('cpu', [n], 'bfloat16'), back = native.empty('cpu', [n], 'float32');
    native.cast(src, half);
    const got = native.toArray(half) as Uint16Array;
    const want = Uint16Array.from(values, toBf16Ref);
    const firstBad = got.findIndex((g, i) => g !== want[i]);
    expect(firstBad, `value ${values[firstBad]}: got 0x${got[firstBad]?.toString(16)}, want 0x${want[firstBad]?.toString(16)}`).toBe(-1);
    expect(want[SPECIAL.findIndex(Number.isNaN)] & 0x7f80).toBe(0x7f80);  // the reference itself keeps NaN a NaN
    expect(want.slice(12, 16)).toEqual(Uint16Array.of(0x3f80, 0x3f82, 0x3f81, 0x3f80));  // ties to even, then just above/below
    native.cast(half, back);
    const b = native.toArray(back) as Float32Array;
    for (let i = 0; i < n; i++) if (!Number.isNaN(values[i])) expect(bits(b[i])).toBe((want[i] << 16) >>> 0);
    expect(Number.isNaN(b[SPECIAL.findIndex(Number.isNaN)])).toBe(true);
    // relative error of a normal value is at most 2^-8 (8 significant bits)
    for (let i = SPECIAL.length; i < n; i++) expect(Math.abs(b[i] - values[i])).toBeLessThanOrEqual(Math.abs(values[i]) * 2 ** -8);
    for (const t of [src, half, back]) t.dispose();
  });

  it('works on 4-D tensors element for element (bfloat16 tensors are plain on the cpu backend)', () => {
    const dims = [2, 20, 3, 5];
    const x = rand(2 * 20 * 15, 9, -5, 5);
    const X = tensorIn('cpu', dims, x), H = native.empty('cpu', dims, 'bfloat16'), B = native.empty('cpu', dims, 'float32');
    native.cast(X, H);
    native.cast(H, B);
    const want = Float32Array.from(x, (v) => fromBits(toBf16Ref(v) << 16));
    expect(Array.from(native.toArray(B) as Float32Array)).toEqual(Array.from(want));
    for (const t of [X, H, B]) t.dispose();
  });

  it('refuses other dtype pairs, other shapes and mixed layouts, naming both tensors', () => {
    const f = native.empty('cpu', [4, 16, 2, 2], 'float32'), h = native.empty('cpu', [4, 16, 2, 2], 'bfloat16');
    const u = native.empty('cpu', [4, 16, 2, 2], 'uint8'), g = native.empty('cpu', [4, 16, 2, 3], 'bfloat16');
    const blocked = native.empty('cpu', [4, 16, 2, 2], 'float32', 'nChw16c');
    expect(() => native.cast(f, u)).toThrow(/^cast: converts float32 to bfloat16 or back; got src float32\[4,16,2,2\].* and dst uint8/);
    expect(() => native.cast(f, f)).toThrow(TypeError);
    expect(() => native.cast(h, h)).toThrow(TypeError);
    expect(() => native.cast(f, g)).toThrow(/cast: .*shape/);
    expect(() => native.cast(blocked, h)).toThrow(/cast: .*layout/);
    expect(() => (native.cast as (...a: unknown[]) => void)(f)).toThrow(/cast/);
    for (const t of [f, h, u, g, blocked]) t.dispose();
  });
});

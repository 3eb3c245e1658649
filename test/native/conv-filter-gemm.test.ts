// conv2dBackwardFilter through im2col + GEMM (native/cpu/conv_gemm.cc) forced for every shape: the
// path the CPU backend takes for 2x2 maps with many channels, checked here on general shapes
// (strides, paddings, kernels, layouts). Own file: the switch is read once per process.
process.env.VGG_CIFAR_CONV_FILTER_GEMM = 'always';
import { describe, it } from 'vitest';
import { native, type Layout } from '../../lib/backend.js';
import { expectClose, rand, tensorIn } from '../helpers/check.js';
import { convBackwardFilterRef, convOut, type ConvShape } from '../ref/conv.js';

const CASES: [ConvShape, Layout][] = [
  [{ N: 2, C: 3, H: 9, W: 7, O: 5, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 }, 'plain'],
  [{ N: 3, C: 16, H: 8, W: 8, O: 24, kh: 5, kw: 5, strideH: 2, strideW: 2, padH: 2, padW: 2 }, 'nChw16c'],
  [{ N: 1, C: 12, H: 6, W: 11, O: 7, kh: 1, kw: 3, strideH: 2, strideW: 1, padH: 0, padW: 1 }, 'nChw8c'],
  [{ N: 2, C: 32, H: 5, W: 5, O: 32, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 0, padW: 0 }, 'nChw16c'],
];

describe('conv2dBackwardFilter through im2col + GEMM', () => {
  it.each(CASES)('%o in %s layout', (s, layout) => {
    const { Ho, Wo } = convOut(s);
    const xd = [s.N, s.C, s.H, s.W], yd = [s.N, s.O, Ho, Wo];
    const x = rand(s.N * s.C * s.H * s.W, 11), dy = rand(s.N * s.O * Ho * Wo, 12);
    const X = tensorIn('cpu', xd, x, layout), DY = tensorIn('cpu', yd, dy, layout);
    const DW = native.empty('cpu', [s.O, s.C, s.kh, s.kw], 'float32'), DB = native.empty('cpu', [s.O], 'float32');
    native.fill(DW, 7);
    native.fill(DB, 7);
    native.conv2dBackwardFilter(X, DY, DW, DB, { strideH: s.strideH, strideW: s.strideW, padH: s.padH, padW: s.padW });
    const ref = convBackwardFilterRef(s, x, dy);
    expectClose(native.toArray(DW) as Float32Array, ref.dw, 1e-4, 'dw');
    expectClose(native.toArray(DB) as Float32Array, ref.db, 1e-4, 'db');
    for (const t of [X, DY, DW, DB]) t.dispose();
  });
});

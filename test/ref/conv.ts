// Float64 reference convolution (PyTorch semantics: symmetric zero padding, floor output size) and
// its two backwards, written as the plain definition so they can be trusted by reading.
export interface ConvShape { N: number; C: number; H: number; W: number; O: number; kh: number; kw: number;
  strideH: number; strideW: number; padH: number; padW: number; }

export function convOut(s: ConvShape): { Ho: number; Wo: number } {
  return { Ho: Math.floor((s.H + 2 * s.padH - s.kh) / s.strideH) + 1, Wo: Math.floor((s.W + 2 * s.padW - s.kw) / s.strideW) + 1 };
}

/** Calls f(x index, w index, y index) for every product x*w that contributes to y (padding skipped). */
function forEachTap(s: ConvShape, f: (xi: number, wi: number, yi: number) => void): void {
  const { Ho, Wo } = convOut(s);
  for (let n = 0; n < s.N; n++)
    for (let o = 0; o < s.O; o++)
      for (let oh = 0; oh < Ho; oh++)
        for (let ow = 0; ow < Wo; ow++) {
          const yi = ((n * s.O + o) * Ho + oh) * Wo + ow;
          for (let c = 0; c < s.C; c++)
            for (let i = 0; i < s.kh; i++) {
              const ih = oh * s.strideH - s.padH + i;
              if (ih < 0 || ih >= s.H) continue;
              for (let j = 0; j < s.kw; j++) {
                const iw = ow * s.strideW - s.padW + j;
                if (iw < 0 || iw >= s.W) continue;
                f(((n * s.C + c) * s.H + ih) * s.W + iw, ((o * s.C + c) * s.kh + i) * s.kw + j, yi);
              }
            }
        }
}

export function convForwardRef(s: ConvShape, x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null,
  relu = false): Float64Array {
  const { Ho, Wo } = convOut(s);
  const y = new Float64Array(s.N * s.O * Ho * Wo);
  if (b) for (let k = 0; k < y.length; k++) y[k] = b[Math.floor(k / (Ho * Wo)) % s.O];
  forEachTap(s, (xi, wi, yi) => { y[yi] += x[xi] * w[wi]; });
  if (relu) for (let k = 0; k < y.length; k++) y[k] = Math.max(0, y[k]);
  return y;
}

export function convBackwardDataRef(s: ConvShape, dy: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const dx = new Float64Array(s.N * s.C * s.H * s.W);
  forEachTap(s, (xi, wi, yi) => { dx[xi] += dy[yi] * w[wi]; });
  return dx;
}

export function convBackwardFilterRef(s: ConvShape, x: ArrayLike<number>, dy: ArrayLike<number>): { dw: Float64Array; db: Float64Array } {
  const { Ho, Wo } = convOut(s);
  const dw = new Float64Array(s.O * s.C * s.kh * s.kw);
  const db = new Float64Array(s.O);
  forEachTap(s, (xi, wi, yi) => { dw[wi] += x[xi] * dy[yi]; });
  for (let k = 0; k < dy.length; k++) db[Math.floor(k / (Ho * Wo)) % s.O] += dy[k];
  return { dw, db };
}

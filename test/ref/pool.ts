// float64 reference of max pooling (PyTorch's MaxPool2d: padding is -inf, output floor((H+2p-k)/s)+1).
export interface PoolP { kernelH: number; kernelW: number; strideH: number; strideW: number; padH: number; padW: number }

export function poolOutShape(shape: readonly number[], p: PoolP): number[] {
  const [N, C, H, W] = shape;
  return [N, C, Math.floor((H + 2 * p.padH - p.kernelH) / p.strideH) + 1, Math.floor((W + 2 * p.padW - p.kernelW) / p.strideW) + 1];
}

/** y and, for each output, the flat index into x of the maximum (first on ties). */
export function maxPoolRef(x: ArrayLike<number>, shape: readonly number[], p: PoolP): { y: Float64Array; arg: Int32Array } {
  const [N, C, H, W] = shape;
  const [, , OH, OW] = poolOutShape(shape, p);
  const y = new Float64Array(N * C * OH * OW);
  const arg = new Int32Array(y.length);
  for (let nc = 0; nc < N * C; nc++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let best = -Infinity;
        let bi = -1;
        for (let kh = 0; kh < p.kernelH; kh++)
          for (let kw = 0; kw < p.kernelW; kw++) {
            const ih = oh * p.strideH - p.padH + kh;
            const iw = ow * p.strideW - p.padW + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const i = (nc * H + ih) * W + iw;
            if (x[i] > best) { best = x[i]; bi = i; }
          }
        const o = (nc * OH + oh) * OW + ow;
        y[o] = best;
        arg[o] = bi;
      }
  return { y, arg };
}

export function maxPoolBackwardRef(dy: ArrayLike<number>, arg: Int32Array, xSize: number): Float64Array {
  const dx = new Float64Array(xSize);
  for (let o = 0; o < arg.length; o++) dx[arg[o]] += dy[o];
  return dx;
}

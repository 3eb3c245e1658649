// float64 references of softmax, cross-entropy with PyTorch's label smoothing (mean over the batch),
// argmax and sum of squares.
export function softmaxRef(x: ArrayLike<number>, N: number, C: number): Float64Array {
  const p = new Float64Array(N * C);
  for (let i = 0; i < N; i++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x[i * C + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x[i * C + c] - m);
    for (let c = 0; c < C; c++) p[i * C + c] = Math.exp(x[i * C + c] - m) / s;
  }
  return p;
}

/** loss = mean_i [ -sum_c target_ic log p_ic ], target = (1 - ls) onehot + ls / C; d = (p - target) / N. */
export function crossEntropyRef(x: ArrayLike<number>, labels: ArrayLike<number>, N: number, C: number, ls: number): { loss: number; d: Float64Array } {
  const p = softmaxRef(x, N, C);
  const d = new Float64Array(N * C);
  let loss = 0;
  for (let i = 0; i < N; i++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x[i * C + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x[i * C + c] - m);
    for (let c = 0; c < C; c++) {
      const t = (c === labels[i] ? 1 - ls : 0) + ls / C;
      const logp = x[i * C + c] - m - Math.log(s); // log-softmax, finite even where p underflows
      loss -= t * logp;
      d[i * C + c] = (p[i * C + c] - t) / N;
    }
  }
  return { loss: loss / N, d };
}

export function argmaxRef(x: ArrayLike<number>, N: number, C: number): Int32Array {
  const out = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    let b = 0;
    for (let c = 1; c < C; c++) if (x[i * C + c] > x[i * C + b]) b = c;
    out[i] = b;
  }
  return out;
}

export function sumSquaresRef(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

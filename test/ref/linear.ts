// Float64 reference of y[N,M] = x[N,K] w[M,K]^T + b[M] and its backward.
export function linearForwardRef(N: number, K: number, M: number, x: ArrayLike<number>, w: ArrayLike<number>,
  b: ArrayLike<number> | null, relu = false): Float64Array {
  const y = new Float64Array(N * M);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      let s = b ? b[m] : 0;
      for (let k = 0; k < K; k++) s += x[n * K + k] * w[m * K + k];
      y[n * M + m] = relu ? Math.max(0, s) : s;
    }
  return y;
}

export function linearBackwardRef(N: number, K: number, M: number, x: ArrayLike<number>, w: ArrayLike<number>, dy: ArrayLike<number>):
  { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(N * K);
  const dw = new Float64Array(M * K);
  const db = new Float64Array(M);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const g = dy[n * M + m];
      db[m] += g;
      for (let k = 0; k < K; k++) {
        dx[n * K + k] += g * w[m * K + k];
        dw[m * K + k] += g * x[n * K + k];
      }
    }
  return { dx, dw, db };
}

// float64 reference of BatchNorm2d (PyTorch): training uses biased batch variance for normalization
// and the unbiased one for the running estimate; eval uses the running statistics.
export interface BnOut { y: Float64Array; mean: Float64Array; invStd: Float64Array; runningMean: Float64Array; runningVar: Float64Array }

export function batchNormRef(x: ArrayLike<number>, shape: readonly number[], gamma: ArrayLike<number>, beta: ArrayLike<number>,
  runningMean: ArrayLike<number>, runningVar: ArrayLike<number>, training: boolean, momentum: number, eps: number): BnOut {
  const [N, C, H, W] = shape;
  const HW = H * W;
  const M = N * HW;
  const y = new Float64Array(N * C * HW);
  const mean = new Float64Array(C), invStd = new Float64Array(C);
  const rm = Float64Array.from(runningMean), rv = Float64Array.from(runningVar);
  for (let c = 0; c < C; c++) {
    let mu: number, inv: number;
    if (training) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) s += x[(n * C + c) * HW + i];
      mu = s / M;
      let v = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) v += (x[(n * C + c) * HW + i] - mu) ** 2;
      v /= M;
      inv = 1 / Math.sqrt(v + eps);
      rm[c] = (1 - momentum) * rm[c] + momentum * mu;
      rv[c] = (1 - momentum) * rv[c] + momentum * v * M / (M - 1);
    } else {
      mu = runningMean[c];
      inv = 1 / Math.sqrt(runningVar[c] + eps);
    }
    mean[c] = mu;
    invStd[c] = inv;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) {
      const k = (n * C + c) * HW + i;
      y[k] = (x[k] - mu) * inv * gamma[c] + beta[c];
    }
  }
  return { y, mean, invStd, runningMean: rm, runningVar: rv };
}

/** Gradients of the training-mode forward with respect to x, gamma and beta. */
export function batchNormBackwardRef(x: ArrayLike<number>, shape: readonly number[], dy: ArrayLike<number>, gamma: ArrayLike<number>,
  mean: ArrayLike<number>, invStd: ArrayLike<number>): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const [N, C, H, W] = shape;
  const HW = H * W;
  const M = N * HW;
  const dx = new Float64Array(x.length), dgamma = new Float64Array(C), dbeta = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let sdy = 0, sdyx = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) {
      const k = (n * C + c) * HW + i;
      sdy += dy[k];
      sdyx += dy[k] * (x[k] - mean[c]) * invStd[c];
    }
    dbeta[c] = sdy;
    dgamma[c] = sdyx;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) {
      const k = (n * C + c) * HW + i;
      const xhat = (x[k] - mean[c]) * invStd[c];
      dx[k] = gamma[c] * invStd[c] * (dy[k] - sdy / M - xhat * sdyx / M);
    }
  }
  return { dx, dgamma, dbeta };
}

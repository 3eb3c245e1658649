// float64 references of torch.optim's SGD, Adam/AdamW and Adagrad, written from the algorithms in the
// PyTorch documentation (one step on a flat parameter; state arrays are updated in place).
export interface SgdOpts { lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number; maximize: boolean }
export interface AdamOpts { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean; amsgrad: boolean; maximize: boolean }
export interface AdagradOpts { lr: number; lrDecay: number; weightDecay: number; eps: number; maximize: boolean }

/** t is the 1-based step; buf is the momentum buffer (b_{t-1}). */
export function sgdStepRef(theta: Float64Array, grad: ArrayLike<number>, buf: Float64Array, t: number, o: SgdOpts): void {
  for (let i = 0; i < theta.length; i++) {
    let g = o.maximize ? -grad[i] : grad[i];
    if (o.weightDecay !== 0) g += o.weightDecay * theta[i];
    if (o.momentum !== 0) {
      buf[i] = t > 1 ? o.momentum * buf[i] + (1 - o.dampening) * g : g;
      g = o.nesterov ? g + o.momentum * buf[i] : buf[i];
    }
    theta[i] -= o.lr * g;
  }
}

export function adamStepRef(theta: Float64Array, grad: ArrayLike<number>, m: Float64Array, v: Float64Array, vmax: Float64Array, t: number, o: AdamOpts): void {
  for (let i = 0; i < theta.length; i++) {
    let g = o.maximize ? -grad[i] : grad[i];
    if (o.decoupled) theta[i] *= 1 - o.lr * o.weightDecay;
    else if (o.weightDecay !== 0) g += o.weightDecay * theta[i];
    m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
    v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
    const mhat = m[i] / (1 - o.beta1 ** t);
    let vhat: number;
    if (o.amsgrad) {
      vmax[i] = Math.max(vmax[i], v[i]);
      vhat = vmax[i] / (1 - o.beta2 ** t);
    } else vhat = v[i] / (1 - o.beta2 ** t);
    theta[i] -= (o.lr * mhat) / (Math.sqrt(vhat) + o.eps);
  }
}

export function adagradStepRef(theta: Float64Array, grad: ArrayLike<number>, sum: Float64Array, t: number, o: AdagradOpts): void {
  const clr = o.lr / (1 + (t - 1) * o.lrDecay);
  for (let i = 0; i < theta.length; i++) {
    let g = o.maximize ? -grad[i] : grad[i];
    if (o.weightDecay !== 0) g += o.weightDecay * theta[i];
    sum[i] += g * g;
    theta[i] -= (clr * g) / (Math.sqrt(sum[i]) + o.eps);
  }
}

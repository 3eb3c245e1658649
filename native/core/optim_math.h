// Per-element optimizer updates with PyTorch's exact formulas (torch.optim SGD, Adam/AdamW, Adagrad,
// single-tensor pseudo-code). Scalars that depend only on the step are folded once on the host
// (*Coeffs, in double, then rounded to float); the per-element functions are shared by native/cpu and
// native/cuda so both backends update parameters identically.
#pragma once
#include <cmath>
#include "core/hd.h"
#include "core/params.h"

namespace vgg {

// ---- SGD ----
// g = maximize ? -grad : grad;  g += wd * param;
// momentum: buf = first ? g : momentum * buf + (1 - dampening) * g;  g = nesterov ? g + momentum * buf : buf
// param -= lr * g
struct SgdCoeffs { float lr, momentum, oneMinusDampening, weightDecay; bool nesterov, maximize, firstStep, useMomentum; };

inline SgdCoeffs sgdCoeffs(const SgdParams& p) {
  return SgdCoeffs{p.lr, p.momentum, 1.0f - p.dampening, p.weightDecay, p.nesterov, p.maximize, p.firstStep, p.momentum != 0.0f};
}

// buf may be null only when c.useMomentum is false.
VGG_HD void sgdElement(float& param, float grad, float* buf, const SgdCoeffs& c) {
  float g = c.maximize ? -grad : grad;
  if (c.weightDecay != 0.0f) g = g + c.weightDecay * param;
  if (c.useMomentum) {
    float b = c.firstStep ? g : c.momentum * *buf + c.oneMinusDampening * g;
    *buf = b;
    g = c.nesterov ? g + c.momentum * b : b;
  }
  param = param - c.lr * g;
}

// ---- Adam / AdamW ----
// g = maximize ? -grad : grad
// Adam:  g += wd * param          AdamW: param *= 1 - lr * wd
// m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
// amsgrad: vmax = max(vmax, v), use vmax for v below
// denom = sqrt(v) / sqrt(1 - beta2^step) + eps;  param -= lr / (1 - beta1^step) * m / denom
struct AdamCoeffs { float oneMinusBeta1, beta2, oneMinusBeta2, stepSize, bc2Sqrt, eps, l2, decayFactor; bool amsgrad, maximize; };

inline AdamCoeffs adamCoeffs(const AdamParams& p) {
  double bc1 = 1.0 - std::pow((double)p.beta1, (double)p.step);
  double bc2 = 1.0 - std::pow((double)p.beta2, (double)p.step);
  AdamCoeffs c;
  c.oneMinusBeta1 = (float)(1.0 - (double)p.beta1);
  c.beta2 = p.beta2;
  c.oneMinusBeta2 = (float)(1.0 - (double)p.beta2);
  c.stepSize = (float)((double)p.lr / bc1);
  c.bc2Sqrt = (float)std::sqrt(bc2);
  c.eps = p.eps;
  c.l2 = p.decoupled ? 0.0f : p.weightDecay;
  c.decayFactor = p.decoupled ? (float)(1.0 - (double)p.lr * (double)p.weightDecay) : 1.0f;
  c.amsgrad = p.amsgrad;
  c.maximize = p.maximize;
  return c;
}

// vmax may be null only when c.amsgrad is false.
VGG_HD void adamElement(float& param, float grad, float& m, float& v, float* vmax, const AdamCoeffs& c) {
  float g = c.maximize ? -grad : grad;
  float w = param;
  if (c.l2 != 0.0f) g = g + c.l2 * w;
  w = w * c.decayFactor;
  m = m + c.oneMinusBeta1 * (g - m);
  v = c.beta2 * v + c.oneMinusBeta2 * g * g;
  float vv = v;
  if (c.amsgrad) {
    vv = *vmax > v ? *vmax : v;
    *vmax = vv;
  }
  float denom = sqrtf(vv) / c.bc2Sqrt + c.eps;
  param = w - c.stepSize * (m / denom);
}

// ---- Adagrad ----
// g = maximize ? -grad : grad;  g += wd * param;  clr = lr / (1 + (step - 1) * lr_decay)
// sum += g * g;  param -= clr * g / (sqrt(sum) + eps)
struct AdagradCoeffs { float clr, weightDecay, eps; bool maximize; };

inline AdagradCoeffs adagradCoeffs(const AdagradParams& p) {
  return AdagradCoeffs{(float)((double)p.lr / (1.0 + (double)(p.step - 1) * (double)p.lrDecay)), p.weightDecay, p.eps, p.maximize};
}

VGG_HD void adagradElement(float& param, float grad, float& sum, const AdagradCoeffs& c) {
  float g = c.maximize ? -grad : grad;
  if (c.weightDecay != 0.0f) g = g + c.weightDecay * param;
  sum = sum + g * g;
  param = param - c.clr * (g / (sqrtf(sum) + c.eps));
}

}  // namespace vgg

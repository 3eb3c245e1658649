// Fused optimizer updates, one pass over a parameter, with PyTorch's formulas (torch.optim single-tensor
// paths). Step-dependent scalars (bias corrections, decayed lr) are computed once on the host in double,
// as PyTorch does in Python.
#include <cmath>
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace vgg {

__global__ void sgdKernel(float* p, const float* grad, float* buf, int64_t n, float lr, float momentum, float dampening, bool nesterov,
                          float wd, bool maximize, bool first) {
  VGG_GRID_LOOP(i, n) {
    float g = maximize ? -grad[i] : grad[i];
    if (wd != 0.0f) g += wd * p[i];
    if (buf) {
      float b = first ? g : momentum * buf[i] + (1.0f - dampening) * g;
      buf[i] = b;
      g = nesterov ? g + momentum * b : b;
    }
    p[i] -= lr * g;
  }
}

__global__ void adamKernel(float* p, const float* grad, float* m, float* v, float* vmax, int64_t n, float lr, float beta1, float beta2,
                           float eps, float wd, bool decoupled, bool maximize, float stepSize, float bc2Sqrt) {
  VGG_GRID_LOOP(i, n) {
    float g = maximize ? -grad[i] : grad[i];
    float w = p[i];
    if (wd != 0.0f) {
      if (decoupled) w *= 1.0f - lr * wd;
      else g += wd * w;
    }
    float mi = m[i] + (1.0f - beta1) * (g - m[i]);  // lerp, as torch's exp_avg.lerp_(grad, 1 - beta1)
    float vi = v[i] * beta2 + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    float second = vi;
    if (vmax) {
      second = fmaxf(vmax[i], vi);
      vmax[i] = second;
    }
    float denom = sqrtf(second) / bc2Sqrt + eps;
    p[i] = w - stepSize * (mi / denom);
  }
}

__global__ void adagradKernel(float* p, const float* grad, float* sum, int64_t n, float clr, float wd, float eps, bool maximize) {
  VGG_GRID_LOOP(i, n) {
    float g = maximize ? -grad[i] : grad[i];
    if (wd != 0.0f) g += wd * p[i];
    float s = sum[i] + g * g;
    sum[i] = s;
    p[i] -= clr * (g / (sqrtf(s) + eps));
  }
}

void CudaBackend::sgdUpdate(const Tensor& param, const Tensor& grad, const Tensor* momentumBuf, const SgdParams& p) {
  const char* op = "sgdUpdate";
  requirePlainF32(op, {&param, &grad, momentumBuf});
  int64_t n = param.numel();
  float* buf = p.momentum != 0.0f && momentumBuf ? momentumBuf->as<float>() : nullptr;
  sgdKernel<<<blocksFor(n), kThreads, 0, ctx(op).stream>>>(param.as<float>(), grad.as<float>(), buf, n, p.lr, p.momentum, p.dampening,
                                                           p.nesterov, p.weightDecay, p.maximize, p.firstStep);
  checkLaunch(op, "sgdKernel");
}

void CudaBackend::adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor* vmax, const AdamParams& p) {
  const char* op = "adamUpdate";
  requirePlainF32(op, {&param, &grad, &m, &v, vmax});
  int64_t n = param.numel();
  double bc1 = 1.0 - std::pow((double)p.beta1, (double)p.step);
  double bc2 = 1.0 - std::pow((double)p.beta2, (double)p.step);
  float stepSize = (float)(p.lr / bc1), bc2Sqrt = (float)std::sqrt(bc2);
  adamKernel<<<blocksFor(n), kThreads, 0, ctx(op).stream>>>(param.as<float>(), grad.as<float>(), m.as<float>(), v.as<float>(),
                                                            p.amsgrad && vmax ? vmax->as<float>() : nullptr, n, p.lr, p.beta1, p.beta2, p.eps,
                                                            p.weightDecay, p.decoupled, p.maximize, stepSize, bc2Sqrt);
  checkLaunch(op, "adamKernel");
}

void CudaBackend::adagradUpdate(const Tensor& param, const Tensor& grad, const Tensor& sum, const AdagradParams& p) {
  const char* op = "adagradUpdate";
  requirePlainF32(op, {&param, &grad, &sum});
  int64_t n = param.numel();
  float clr = (float)(p.lr / (1.0 + (double)(p.step - 1) * p.lrDecay));
  adagradKernel<<<blocksFor(n), kThreads, 0, ctx(op).stream>>>(param.as<float>(), grad.as<float>(), sum.as<float>(), n, clr, p.weightDecay,
                                                               p.eps, p.maximize);
  checkLaunch(op, "adagradKernel");
}

}  // namespace vgg

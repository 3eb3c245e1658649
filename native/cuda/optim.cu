// Fused optimizer updates, one pass over a parameter, with PyTorch's formulas (torch.optim single-tensor
// paths). Step-dependent scalars (bias corrections, decayed lr) are folded once on the host in double.
#include "core/optim_math.h"
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace vgg {

// The per-element updates are core/optim_math.h, shared with the CPU backend; built without FMA
// contraction (CMakeLists.txt), they round exactly as the CPU does.
__global__ void sgdKernel(float* p, const float* grad, float* buf, int64_t n, SgdCoeffs c) {
  VGG_GRID_LOOP(i, n) sgdElement(p[i], grad[i], buf ? buf + i : nullptr, c);
}

__global__ void adamKernel(float* p, const float* grad, float* m, float* v, float* vmax, int64_t n, AdamCoeffs c) {
  VGG_GRID_LOOP(i, n) adamElement(p[i], grad[i], m[i], v[i], vmax ? vmax + i : nullptr, c);
}

__global__ void adagradKernel(float* p, const float* grad, float* sum, int64_t n, AdagradCoeffs c) {
  VGG_GRID_LOOP(i, n) adagradElement(p[i], grad[i], sum[i], c);
}

void CudaBackend::sgdUpdate(const Tensor& param, const Tensor& grad, const Tensor* momentumBuf, const SgdParams& p) {
  const char* op = "sgdUpdate";
  requirePlainF32(op, {&param, &grad, momentumBuf});
  int64_t n = param.numel();
  SgdCoeffs c = sgdCoeffs(p);
  if (c.useMomentum && !momentumBuf) throw RangeErr("sgdUpdate: momentum " + std::to_string(p.momentum) + " needs a momentum buffer");
  sgdKernel<<<blocksFor(n), kThreads, 0, ctx(op).stream>>>(param.as<float>(), grad.as<float>(), c.useMomentum ? momentumBuf->as<float>() : nullptr,
                                                           n, c);
  checkLaunch(op, "sgdKernel");
}

void CudaBackend::adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor* vmax, const AdamParams& p) {
  const char* op = "adamUpdate";
  requirePlainF32(op, {&param, &grad, &m, &v, vmax});
  int64_t n = param.numel();
  AdamCoeffs c = adamCoeffs(p);
  if (c.amsgrad && !vmax) throw RangeErr("adamUpdate: amsgrad needs maxExpAvgSq");
  adamKernel<<<blocksFor(n), kThreads, 0, ctx(op).stream>>>(param.as<float>(), grad.as<float>(), m.as<float>(), v.as<float>(),
                                                            c.amsgrad ? vmax->as<float>() : nullptr, n, c);
  checkLaunch(op, "adamKernel");
}

void CudaBackend::adagradUpdate(const Tensor& param, const Tensor& grad, const Tensor& sum, const AdagradParams& p) {
  const char* op = "adagradUpdate";
  requirePlainF32(op, {&param, &grad, &sum});
  int64_t n = param.numel();
  adagradKernel<<<blocksFor(n), kThreads, 0, ctx(op).stream>>>(param.as<float>(), grad.as<float>(), sum.as<float>(), n, adagradCoeffs(p));
  checkLaunch(op, "adagradKernel");
}

}  // namespace vgg

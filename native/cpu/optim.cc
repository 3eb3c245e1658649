// Fused optimizer updates: one OpenMP pass over a parameter and its state, per-element math from
// core/optim_math.h (shared with the CUDA backend).
#include "core/optim_math.h"
#include "cpu/cpu_backend.h"

namespace vgg {

static const int64_t kParallelMin = 16384;

void CpuBackend::sgdUpdate(const Tensor& param, const Tensor& grad, const Tensor* momentumBuf, const SgdParams& p) {
  const SgdCoeffs c = sgdCoeffs(p);
  int64_t n = physicalNumel(param.shape, param.layout);
  float* w = param.as<float>();
  const float* g = grad.as<float>();
  float* buf = c.useMomentum ? momentumBuf->as<float>() : nullptr;
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) sgdElement(w[i], g[i], buf ? buf + i : nullptr, c);
}

void CpuBackend::adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor* vmax,
                            const AdamParams& p) {
  const AdamCoeffs c = adamCoeffs(p);
  int64_t n = physicalNumel(param.shape, param.layout);
  float* w = param.as<float>();
  const float* g = grad.as<float>();
  float* mp = m.as<float>();
  float* vp = v.as<float>();
  float* vm = c.amsgrad ? vmax->as<float>() : nullptr;
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) adamElement(w[i], g[i], mp[i], vp[i], vm ? vm + i : nullptr, c);
}

void CpuBackend::adagradUpdate(const Tensor& param, const Tensor& grad, const Tensor& sum, const AdagradParams& p) {
  const AdagradCoeffs c = adagradCoeffs(p);
  int64_t n = physicalNumel(param.shape, param.layout);
  float* w = param.as<float>();
  const float* g = grad.as<float>();
  float* s = sum.as<float>();
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) adagradElement(w[i], g[i], s[i], c);
}

}  // namespace vgg

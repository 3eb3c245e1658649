// ReLU, inverted dropout and axpby: OpenMP loops over the physical buffer (the napi layer has checked
// that the tensors share a layout, so element i of one is element i of the others).
#include "core/elementwise.h"
#include "cpu/cpu_backend.h"

namespace vgg {

static const int64_t kParallelMin = 32768;

void CpuBackend::reluForward(const Tensor& x, const Tensor& y) {
  int64_t n = physicalNumel(x.shape, x.layout);
  const float* xp = x.as<float>();
  float* yp = y.as<float>();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) yp[i] = reluValue(xp[i]);
}

void CpuBackend::reluBackward(const Tensor& y, const Tensor& dy, const Tensor& dx) {
  int64_t n = physicalNumel(y.shape, y.layout);
  const float* yp = y.as<float>();
  const float* dyp = dy.as<float>();
  float* dxp = dx.as<float>();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) dxp[i] = reluGrad(yp[i], dyp[i]);
}

void CpuBackend::dropoutForward(const Tensor& x, const Tensor& mask, const Tensor& y, float p, uint64_t seed) {
  int64_t n = x.numel();
  const float* xp = x.as<float>();
  uint8_t* mp = mask.as<uint8_t>();
  float* yp = y.as<float>();
  float scale = dropoutScale(p);
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    uint8_t k = dropoutKeep(seed, (uint64_t)i, p);
    mp[i] = k;
    yp[i] = k ? xp[i] * scale : 0.0f;
  }
}

void CpuBackend::dropoutBackward(const Tensor& dy, const Tensor& mask, const Tensor& dx, float p) {
  int64_t n = dy.numel();
  const float* dyp = dy.as<float>();
  const uint8_t* mp = mask.as<uint8_t>();
  float* dxp = dx.as<float>();
  float scale = dropoutScale(p);
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) dxp[i] = mp[i] ? dyp[i] * scale : 0.0f;
}

void CpuBackend::axpby(const Tensor& x, const Tensor& y, float alpha, float beta) {
  int64_t n = physicalNumel(x.shape, x.layout);
  const float* xp = x.as<float>();
  float* yp = y.as<float>();
  if (beta == 0.0f) {  // BLAS convention: y is not read, so NaN/garbage in y does not survive
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) yp[i] = alpha * xp[i];
  } else {
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) yp[i] = alpha * xp[i] + beta * yp[i];
  }
}

}  // namespace vgg

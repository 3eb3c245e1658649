// ReLU, inverted dropout (float32 or bfloat16), axpby and the float32 <-> bfloat16 cast: OpenMP loops over the physical buffer (the napi layer has checked
// that the tensors share a layout, so element i of one is element i of the others; padding lanes of
// blocked layouts are computed too, harmlessly).
#include <algorithm>
#include "core/elementwise.h"
#include "cpu/cpu_backend.h"
#include "cpu/simd.h"
#include "cpu/typed.h"

namespace vgg {

static const int64_t kParallelMin = 32768;

void CpuBackend::reluForward(const Tensor& x, const Tensor& y) {
  int64_t n = physicalNumel(x.shape, x.layout);
  byDType(x, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.as<T>();
    T* yp = y.as<T>();
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) storeFloat(yp + i, reluValue(loadFloat(xp[i])));
  });
}

void CpuBackend::reluBackward(const Tensor& y, const Tensor& dy, const Tensor& dx) {
  int64_t n = physicalNumel(y.shape, y.layout);
  byDType(y, [&](auto tag) {
    using T = decltype(tag);
    const T* yp = y.as<T>();
    const T* dyp = dy.as<T>();
    T* dxp = dx.as<T>();
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) storeFloat(dxp + i, reluGrad(loadFloat(yp[i]), loadFloat(dyp[i])));
  });
}

// Dropout's mask is in logical (plain NCHW) order whatever x's layout, and the RNG counter is the
// logical index, so the same seed drops the same elements on every backend and layout. For a blocked
// layout, visit (n, channel block, hw, lane) and map to the logical index; padding lanes are skipped.
template <class F>
static void forLogical(const Tensor& x, F&& f) {
  const int blk = layoutBlock(x.layout);
  if (x.layout == Layout::nhwc) {
    const int64_t N = x.shape[0], C = x.shape[1], HW = x.shape[2] * x.shape[3];
#pragma omp parallel for collapse(2) if (x.numel() > kParallelMin)
    for (int64_t n = 0; n < N; n++)
      for (int64_t hw = 0; hw < HW; hw++)
        for (int64_t c = 0; c < C; c++) f((n * HW + hw) * C + c, (n * C + c) * HW + hw);
    return;
  }
  if (blk == 1) {
    const int64_t n = x.numel();
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) f(i, i);
    return;
  }
  const int64_t N = x.shape[0], C = x.shape[1], HW = x.shape[2] * x.shape[3], CB = (C + blk - 1) / blk;
#pragma omp parallel for collapse(2) if (x.numel() > kParallelMin)
  for (int64_t n = 0; n < N; n++)
    for (int64_t cb = 0; cb < CB; cb++) {
      const int lanes = (int)std::min<int64_t>(blk, C - cb * blk);
      const int64_t phys = (n * CB + cb) * HW * blk;
      for (int64_t hw = 0; hw < HW; hw++)
        for (int l = 0; l < lanes; l++) f(phys + hw * blk + l, (n * C + cb * blk + l) * HW + hw);
    }
}

void CpuBackend::dropoutForward(const Tensor& x, const Tensor& mask, const Tensor& y, float p, uint64_t seedArg, const Tensor* seedTensor) {
  const uint64_t seed = seedFrom(seedTensor ? seedTensor->as<int32_t>() : nullptr, seedArg);
  uint8_t* mp = mask.as<uint8_t>();
  const float scale = dropoutScale(p);
  byDType(x, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.as<T>();
    T* yp = y.as<T>();
    forLogical(x, [&](int64_t phys, int64_t i) {
      uint8_t k = dropoutKeep(seed, (uint64_t)i, p);
      mp[i] = k;
      storeFloat(yp + phys, k ? loadFloat(xp[phys]) * scale : 0.0f);
    });
  });
}

void CpuBackend::dropoutBackward(const Tensor& dy, const Tensor& mask, const Tensor& dx, float p) {
  const uint8_t* mp = mask.as<uint8_t>();
  const float scale = dropoutScale(p);
  byDType(dy, [&](auto tag) {
    using T = decltype(tag);
    const T* dyp = dy.as<T>();
    T* dxp = dx.as<T>();
    forLogical(dy, [&](int64_t phys, int64_t i) { storeFloat(dxp + phys, mp[i] ? loadFloat(dyp[phys]) * scale : 0.0f); });
  });
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

namespace {
VGG_SIMD_CLONES void toBf16(int64_t n, const float* x, uint16_t* y) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = floatToBf16(x[i]);
}
VGG_SIMD_CLONES void fromBf16(int64_t n, const uint16_t* x, float* y) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = bf16ToFloat(x[i]);
}
}  // namespace

void CpuBackend::cast(const Tensor& src, const Tensor& dst) {
  int64_t n = physicalNumel(src.shape, src.layout);
  if (src.dtype == DType::f32) toBf16(n, src.as<float>(), dst.as<uint16_t>());
  else fromBf16(n, src.as<uint16_t>(), dst.as<float>());
}

}  // namespace vgg

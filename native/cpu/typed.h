// Loops written once for float32 and bfloat16 activations (bf16 held as its uint16_t bits; element
// access through core/elementwise.h's loadFloat/storeFloat).
#pragma once
#include <cstdint>
#include "core/elementwise.h"
#include "core/tensor.h"

namespace vgg {

// Calls f with a value of the element type of t's dtype: float, or uint16_t for bfloat16 (the napi
// layer has checked that it is one of the two).
template <class F>
void byDType(const Tensor& t, F&& f) {
  if (t.dtype == DType::bf16) f(uint16_t{});
  else f(float{});
}

// out[m] = sum over rows n of g[n, m] for a row-major [N, M] matrix (fp32 sums, rows in order).
template <class T>
void columnSums(const T* g, int64_t N, int64_t M, float* out) {
#pragma omp parallel for if (N * M > 65536)
  for (int64_t m = 0; m < M; m++) {
    float s = 0;
    for (int64_t n = 0; n < N; n++) s += loadFloat(g[n * M + m]);
    out[m] = s;
  }
}

}  // namespace vgg

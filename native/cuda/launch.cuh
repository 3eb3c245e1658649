// Launch helpers shared by the .cu files: grid-stride loops, a block-wide sum, element loads and stores.
#pragma once
#include <cuda_runtime.h>
#include <cstdint>
#include "core/elementwise.h"
#include "core/tensor.h"

namespace vgg {

constexpr int kThreads = 256;

inline unsigned blocksFor(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  if (b < 1) b = 1;
  return (unsigned)(b > 8192 ? 8192 : b);  // grid-stride loops cover the rest
}

#define VGG_GRID_LOOP(i, n) \
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)blockDim.x * gridDim.x)

// Sum of v over the block (blockDim.x a multiple of 32, at most 1024); the result is valid in thread 0.
// The reduction order is fixed, so results are deterministic.
template <class T>
__device__ T blockSum(T v) {
  __shared__ T partial[32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();  // partial[] may still be read by a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = threadIdx.x < (blockDim.x >> 5) ? partial[lane] : T(0);
  if (warp == 0)
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

// bfloat16 travels as its raw 16 bits (uint16_t): loaded to fp32 exactly, stored rounded to nearest even
// with the same function as the CPU backend (core/elementwise.h), so both round alike.
__device__ __forceinline__ float load(float v) { return v; }
__device__ __forceinline__ float load(uint16_t v) { return bf16ToFloat(v); }
template <class T> __device__ __forceinline__ T store(float v);
template <> __device__ __forceinline__ float store<float>(float v) { return v; }
template <> __device__ __forceinline__ uint16_t store<uint16_t>(float v) { return floatToBf16(v); }

// Calls f with a value of the element type of a float32 / bfloat16 tensor (to pick a kernel instance).
template <class F>
void byType(DType t, F&& f) {
  if (t == DType::bf16) f(uint16_t{});
  else f(float{});
}

}  // namespace vgg

// Kernels of the per-shape tuner (nhwc_tune.cc): its synthetic inputs, and the distance between two candidates'
// outputs. They run only while a new shape is tuned, so they favour plainness over speed.
#include "core/rng.h"
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"
#include "cuda/tune.h"

namespace vgg {

template <class T>
__global__ void uniformKernel(T* p, int64_t n, uint64_t seed, int64_t channels, float lo, float hi) {
  VGG_GRID_LOOP(i, n) {
    // A per-channel offset keeps the statistics away from zero, where relative comparisons are ill-conditioned.
    float offset = 0.25f * (float)((i % channels) % 5);
    p[i] = store<T>(lo + (hi - lo) * rngUniform(seed, (uint64_t)i) + offset);
  }
}

void launchTuneUniform(const char* op, void* p, DType t, int64_t n, int64_t channels, uint64_t seed, float lo, float hi, cudaStream_t s) {
  byType(t, [&](auto tag) {
    using T = decltype(tag);
    uniformKernel<T><<<blocksFor(n), kThreads, 0, s>>>((T*)p, n, seed, channels < 1 ? 1 : channels, lo, hi);
  });
  checkLaunch(op, "uniformKernel");
}

// Window position (h % kh, w % kw) plus a random shift, modulo kh * kw: within each window of a pooling with
// stride == kernel the values are distinct small integers (exact in bfloat16), so the maximum has no tie and
// every correct backward routes each gradient to the same element.
template <class T>
__global__ void windowRanksKernel(T* p, int64_t n, int64_t H, int64_t W, int64_t C, int kh, int kw, uint64_t seed) {
  VGG_GRID_LOOP(i, n) {
    int64_t c = i % C, w = (i / C) % W, h = (i / (C * W)) % H, img = i / (C * W * H);
    uint64_t window = (((uint64_t)img * (uint64_t)(H / kh + 1) + (uint64_t)(h / kh)) * (uint64_t)(W / kw + 1) + (uint64_t)(w / kw)) *
                          (uint64_t)C + (uint64_t)c;
    int k = kh * kw;
    int rank = (int)((h % kh) * kw + (w % kw) + rngBelow(seed, window, (uint32_t)k)) % k;
    p[i] = store<T>((float)rank);
  }
}

void launchTuneWindowRanks(const char* op, void* p, DType t, const std::vector<int64_t>& nchw, int kh, int kw, uint64_t seed, cudaStream_t s) {
  int64_t n = nchw[0] * nchw[1] * nchw[2] * nchw[3];
  byType(t, [&](auto tag) {
    using T = decltype(tag);
    windowRanksKernel<T><<<blocksFor(n), kThreads, 0, s>>>((T*)p, n, nchw[2], nchw[3], nchw[1], kh, kw, seed);
  });
  checkLaunch(op, "windowRanksKernel");
}

// sums[0] += sum (a - b)^2, sums[1] += sum b^2, in double; a NaN or infinity anywhere makes sums[0] NaN. The
// order of the atomic additions varies, which only moves the last bits of a distance compared with a tolerance.
template <class T>
__global__ void squaredDistanceKernel(const T* a, const T* b, int64_t n, double* sums) {
  double d = 0.0, r = 0.0;
  VGG_GRID_LOOP(i, n) {
    double x = (double)load(a[i]), y = (double)load(b[i]);
    d += (x - y) * (x - y);
    r += y * y;
  }
  d = blockSum(d);
  r = blockSum(r);
  if (threadIdx.x == 0) {
    atomicAdd(&sums[0], d);
    atomicAdd(&sums[1], r);
  }
}

void launchTuneSquaredDistance(const char* op, const void* a, const void* b, DType t, int64_t n, double* sums, cudaStream_t s) {
  unsigned blocks = blocksFor(n) < 256 ? blocksFor(n) : 256;
  byType(t, [&](auto tag) {
    using T = decltype(tag);
    squaredDistanceKernel<T><<<blocks, kThreads, 0, s>>>((const T*)a, (const T*)b, n, sums);
  });
  checkLaunch(op, "squaredDistanceKernel");
}

}  // namespace vgg

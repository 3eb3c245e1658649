// Max pooling over NHWC activations (float32 or bfloat16), our kernels: cuDNN's legacy backward on NHWC
// bf16 took 2.4x its fp32 NCHW time (../shared/gpu/results-2026-12-04-h200). One thread per element with
// the channel fastest, so every warp reads and writes neighbouring channels.
// The maximum of a window is its first largest value in row-major order (as oneDNN and PyTorch pick it);
// a NaN in the window wins and propagates. Padding positions never win. The backward gives each input
// the sum of dy over the windows whose maximum it is: with stride == kernel (VGG's 2x2/2) each input is
// in at most one window, and one thread per window writes its whole window; otherwise one thread per
// input adds its windows in order. No atomics: results are the same run to run.
#include <cmath>
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace vgg {

namespace {

struct PoolGeom {
  int N, H, W, C, Ho, Wo;
  PoolParams p;
};

PoolGeom geometry(const Tensor& x, const Tensor& y, const PoolParams& p) {
  return PoolGeom{(int)x.shape[0], (int)x.shape[2], (int)x.shape[3], (int)x.shape[1], (int)y.shape[2], (int)y.shape[3], p};
}

// Calls f(ih, iw) for each input position of window (oh, ow) inside the map, in row-major order.
template <class F>
__device__ __forceinline__ void forWindow(const PoolGeom& g, int oh, int ow, F&& f) {
  const int h0 = oh * g.p.strideH - g.p.padH, w0 = ow * g.p.strideW - g.p.padW;
  for (int ih = max(h0, 0); ih < min(h0 + g.p.kernelH, g.H); ih++)
    for (int iw = max(w0, 0); iw < min(w0 + g.p.kernelW, g.W); iw++) f(ih, iw);
}

// Row-major position (ih * W + iw) of the maximum of window (oh, ow), or -1 for a window entirely in
// padding; *m receives its value.
template <class T>
__device__ int windowArgmax(const T* x, const PoolGeom& g, int64_t n, int oh, int ow, int c, float* m) {
  int best = -1;
  float bv = -INFINITY;
  forWindow(g, oh, ow, [&](int ih, int iw) {
    const float v = load(x[((n * g.H + ih) * g.W + iw) * g.C + c]);
    if (best < 0 || v > bv || (isnan(v) && !isnan(bv))) {
      bv = v;
      best = ih * g.W + iw;
    }
  });
  *m = bv;
  return best;
}

// Element i of an NHWC tensor with H x W maps and C channels, as (n, h, w, c).
struct Nhwc {
  int64_t n;
  int h, w, c;
};
__device__ __forceinline__ Nhwc nhwcAt(int64_t i, int H, int W, int C) {
  Nhwc e;
  e.c = (int)(i % C);
  int64_t t = i / C;
  e.w = (int)(t % W);
  t /= W;
  e.h = (int)(t % H);
  e.n = t / H;
  return e;
}

template <class T>
__global__ void forwardKernel(const T* x, T* y, PoolGeom g, int64_t total) {
  VGG_GRID_LOOP(i, total) {
    const Nhwc o = nhwcAt(i, g.Ho, g.Wo, g.C);
    float m;
    windowArgmax(x, g, o.n, o.h, o.w, o.c, &m);
    y[i] = store<T>(m);
  }
}

// stride == kernel: thread per output element; writes dy at its window's maximum and 0 elsewhere in it.
template <class T>
__global__ void backwardScatterKernel(const T* dy, const T* x, T* dx, PoolGeom g, int64_t total) {
  VGG_GRID_LOOP(i, total) {
    const Nhwc o = nhwcAt(i, g.Ho, g.Wo, g.C);
    const int64_t n = o.n;
    const int oh = o.h, ow = o.w, c = o.c;
    float m;
    const int best = windowArgmax(x, g, n, oh, ow, c, &m);
    const T grad = dy[i], zero = store<T>(0.0f);
    forWindow(g, oh, ow, [&](int ih, int iw) { dx[((n * g.H + ih) * g.W + iw) * g.C + c] = ih * g.W + iw == best ? grad : zero; });
  }
}

// Any stride: thread per input element; adds dy of every window (in order) whose maximum it is.
template <class T>
__global__ void backwardGatherKernel(const T* dy, const T* x, T* dx, PoolGeom g, int64_t total) {
  VGG_GRID_LOOP(i, total) {
    const Nhwc e = nhwcAt(i, g.H, g.W, g.C);
    const int64_t n = e.n;
    const int ih = e.h, iw = e.w, c = e.c;
    // Windows oh with oh * s - pad <= ih <= oh * s - pad + k - 1.
    const int ohLo = max(0, (ih + g.p.padH - g.p.kernelH + g.p.strideH) / g.p.strideH);
    const int ohHi = min(g.Ho - 1, (ih + g.p.padH) / g.p.strideH);
    const int owLo = max(0, (iw + g.p.padW - g.p.kernelW + g.p.strideW) / g.p.strideW);
    const int owHi = min(g.Wo - 1, (iw + g.p.padW) / g.p.strideW);
    float acc = 0.0f;
    for (int oh = ohLo; oh <= ohHi; oh++)
      for (int ow = owLo; ow <= owHi; ow++) {
        float m;
        if (windowArgmax(x, g, n, oh, ow, c, &m) == ih * g.W + iw) acc += load(dy[((n * g.Ho + oh) * g.Wo + ow) * g.C + c]);
      }
    dx[i] = store<T>(acc);
  }
}

}  // namespace

void launchMaxPoolNhwcForward(const char* op, const Tensor& x, const Tensor& y, const PoolParams& p, cudaStream_t s) {
  PoolGeom g = geometry(x, y, p);
  int64_t total = y.numel();
  byType(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    forwardKernel<T><<<blocksFor(total), kThreads, 0, s>>>(x.as<T>(), y.as<T>(), g, total);
  });
  checkLaunch(op, "maxPoolNhwcForward");
}

void launchMaxPoolNhwcBackward(const char* op, const Tensor& dy, const Tensor& x, const Tensor& dx, const PoolParams& p, cudaStream_t s) {
  PoolGeom g = geometry(x, dy, p);
  bool scatter = p.strideH == p.kernelH && p.strideW == p.kernelW;
  // Inputs no window reaches (a last row or column the stride skips) get 0 from a fill first.
  bool uncovered = (int64_t)g.Ho * p.strideH - p.padH < g.H || (int64_t)g.Wo * p.strideW - p.padW < g.W;
  if (scatter && uncovered) launchFill(op, dx.data(), dx.dtype, dx.numel(), 0.0f, s);
  byType(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (scatter) {
      int64_t total = dy.numel();
      backwardScatterKernel<T><<<blocksFor(total), kThreads, 0, s>>>(dy.as<T>(), x.as<T>(), dx.as<T>(), g, total);
    } else {
      int64_t total = dx.numel();
      backwardGatherKernel<T><<<blocksFor(total), kThreads, 0, s>>>(dy.as<T>(), x.as<T>(), dx.as<T>(), g, total);
    }
  });
  checkLaunch(op, scatter ? "maxPoolNhwcBackwardScatter" : "maxPoolNhwcBackwardGather");
}

}  // namespace vgg

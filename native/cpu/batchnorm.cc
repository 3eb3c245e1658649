// Batch normalization over the channels of NCHW, in float32 or bfloat16 (statistics and parameters
// fp32): own OpenMP loops. Plain and channel-blocked (nChw8c/nChw16c) layouts take one thread per
// channel block, with the BLK lanes of a block side by side so the inner loops vectorize; NHWC takes
// rows per thread (below). Channel sums are kept in double (two passes: mean, then squared deviations),
// the folding into scale/shift and the backward formula come from core/batchnorm_math.h (shared with CUDA). A
// following ReLU can be fused into the forward's last pass (p.relu); its backward stays the ReLU's.
#include <algorithm>
#include <omp.h>
#include <cmath>
#include <vector>
#include "core/batchnorm_math.h"
#include "core/elementwise.h"
#include "cpu/cpu_backend.h"
#include "cpu/simd.h"

namespace vgg {

namespace {

struct Geometry {
  int64_t N, C, HW, CB;  // CB: channel blocks (C for plain layout)
};

Geometry geometryOf(const Tensor& x, int blk) {
  Geometry g;
  g.N = x.shape[0];
  g.C = x.shape[1];
  g.HW = x.shape[2] * x.shape[3];
  g.CB = (g.C + blk - 1) / blk;
  return g;
}

// Offset of (n, channel block cb, hw = 0, lane 0).
inline int64_t base(const Geometry& g, int blk, int64_t n, int64_t cb) { return (n * g.CB + cb) * g.HW * blk; }

template <int BLK, class T>
[[gnu::always_inline]] inline void forwardImpl(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& rm, const Tensor& rv, const Tensor& y,
                 const Tensor& sm, const Tensor& si, const BatchNormParams& p) {
  const Geometry g = geometryOf(x, BLK);
  const T* xp = x.as<T>();
  T* yp = y.as<T>();
  const float *gp = gamma.as<float>(), *bp = beta.as<float>();
  float *rmp = rm.as<float>(), *rvp = rv.as<float>(), *smp = sm.as<float>(), *sip = si.as<float>();
  const double M = (double)(g.N * g.HW);
#pragma omp for schedule(static)
  for (int64_t cb = 0; cb < g.CB; cb++) {
    const int lanes = (int)std::min<int64_t>(BLK, g.C - cb * BLK);
    float a[BLK], b[BLK];
    if (p.training) {
      double sum[BLK] = {}, sq[BLK] = {};
      for (int64_t n = 0; n < g.N; n++) {
        const T* q = xp + base(g, BLK, n, cb);
        for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
          for (int l = 0; l < BLK; l++) sum[l] += loadFloat(q[hw * BLK + l]);
      }
      double mean[BLK];
      for (int l = 0; l < BLK; l++) mean[l] = sum[l] / M;
      for (int64_t n = 0; n < g.N; n++) {
        const T* q = xp + base(g, BLK, n, cb);
        for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
          for (int l = 0; l < BLK; l++) {
            double d = loadFloat(q[hw * BLK + l]) - mean[l];
            sq[l] += d * d;
          }
      }
      for (int l = 0; l < BLK; l++) {
        a[l] = b[l] = 0.0f;
        if (l >= lanes) continue;
        const int64_t c = cb * BLK + l;
        const double var = sq[l] / M;
        const float invStd = bnInvStd(var, p.eps);
        smp[c] = (float)mean[l];
        sip[c] = invStd;
        bnUpdateRunning(rmp[c], rvp[c], mean[l], var, M, p.momentum);
        BnAffine f = bnAffine((float)mean[l], invStd, gp[c], bp[c]);
        a[l] = f.a;
        b[l] = f.b;
      }
    } else {
      for (int l = 0; l < BLK; l++) {
        a[l] = b[l] = 0.0f;
        if (l >= lanes) continue;
        const int64_t c = cb * BLK + l;
        BnAffine f = bnAffine(rmp[c], bnInvStd((double)rvp[c], p.eps), gp[c], bp[c]);
        a[l] = f.a;
        b[l] = f.b;
      }
    }
    for (int64_t n = 0; n < g.N; n++) {
      const int64_t o = base(g, BLK, n, cb);
      if (p.relu) {
        for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
          for (int l = 0; l < BLK; l++) storeFloat(yp + o + hw * BLK + l, reluValue(loadFloat(xp[o + hw * BLK + l]) * a[l] + b[l]));
      } else {
        for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
          for (int l = 0; l < BLK; l++) storeFloat(yp + o + hw * BLK + l, loadFloat(xp[o + hw * BLK + l]) * a[l] + b[l]);
      }
    }
  }
}

template <int BLK, class T>
[[gnu::always_inline]] inline void backwardImpl(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& sm, const Tensor& si, const Tensor& dx,
                  const Tensor& dgamma, const Tensor& dbeta) {
  const Geometry g = geometryOf(x, BLK);
  const T *xp = x.as<T>(), *dyp = dy.as<T>();
  const float *gp = gamma.as<float>(), *smp = sm.as<float>(), *sip = si.as<float>();
  T* dxp = dx.as<T>();
  float *dgp = dgamma.as<float>(), *dbp = dbeta.as<float>();
  const double M = (double)(g.N * g.HW);
#pragma omp for schedule(static)
  for (int64_t cb = 0; cb < g.CB; cb++) {
    const int lanes = (int)std::min<int64_t>(BLK, g.C - cb * BLK);
    float mean[BLK], inv[BLK];
    for (int l = 0; l < BLK; l++) {
      mean[l] = l < lanes ? smp[cb * BLK + l] : 0.0f;
      inv[l] = l < lanes ? sip[cb * BLK + l] : 0.0f;
    }
    double sdy[BLK] = {}, sdyx[BLK] = {};
    for (int64_t n = 0; n < g.N; n++) {
      const int64_t o = base(g, BLK, n, cb);
      for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
        for (int l = 0; l < BLK; l++) {
          const float d = loadFloat(dyp[o + hw * BLK + l]);
          sdy[l] += d;
          sdyx[l] += (double)d * (double)((loadFloat(xp[o + hw * BLK + l]) - mean[l]) * inv[l]);
        }
    }
    BnBackward k[BLK];
    for (int l = 0; l < BLK; l++) {
      if (l < lanes) {
        const int64_t c = cb * BLK + l;
        dbp[c] = (float)sdy[l];
        dgp[c] = (float)sdyx[l];
        k[l] = bnBackwardCoeffs(gp[c], mean[l], inv[l], sdy[l], sdyx[l], M);
      } else {
        k[l] = BnBackward{0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
      }
    }
    for (int64_t n = 0; n < g.N; n++) {
      const int64_t o = base(g, BLK, n, cb);
      for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
        for (int l = 0; l < BLK; l++)
          storeFloat(dxp + o + hw * BLK + l, bnBackwardElement(loadFloat(xp[o + hw * BLK + l]), loadFloat(dyp[o + hw * BLK + l]), k[l]));
    }
  }
}

// NHWC: channels are the innermost dimension, so one channel block per thread would read every cache
// line with a stride of C. Instead each thread takes a range of rows (n, h, w) and keeps per-channel
// partial sums, added in thread order afterwards (deterministic for a given thread count). These run
// inside the caller's parallel region (orphaned worksharing, like the blocked kernels).
struct NhwcScratch {
  std::vector<double> part;        // [thread][2][C]
  std::vector<double> sum0, sum1, meanD;
  std::vector<float> a, b, k, mdy, mdyx, mean, inv;
  explicit NhwcScratch(int64_t C)
      : part((size_t)omp_get_max_threads() * 2 * C), sum0(C), sum1(C), meanD(C), a(C), b(C), k(C), mdy(C), mdyx(C), mean(C), inv(C) {}
};

// sum0[c], sum1[c] = the sums over all rows r of what term(r, acc0, acc1) adds to acc0[c], acc1[c].
template <class Term>
[[gnu::always_inline]] inline void channelSums(NhwcScratch& s, int64_t R, int64_t C, Term&& term) {
  double* acc = s.part.data() + (size_t)omp_get_thread_num() * 2 * C;
  for (int64_t c = 0; c < 2 * C; c++) acc[c] = 0.0;
#pragma omp for schedule(static)
  for (int64_t r = 0; r < R; r++) term(r, acc, acc + C);
#pragma omp single
  {
    const int nt = omp_get_num_threads();
    for (int64_t c = 0; c < C; c++) {
      double u = 0.0, v = 0.0;
      for (int t = 0; t < nt; t++) {
        u += s.part[(size_t)t * 2 * C + c];
        v += s.part[(size_t)t * 2 * C + C + c];
      }
      s.sum0[c] = u, s.sum1[c] = v;
    }
  }
}

template <class T>
[[gnu::always_inline]] inline void forwardNhwc(NhwcScratch& s, const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& rm,
                                               const Tensor& rv, const Tensor& y, const Tensor& sm, const Tensor& si, const BatchNormParams& p) {
  const int64_t C = x.shape[1], R = x.shape[0] * x.shape[2] * x.shape[3];
  const T* xp = x.as<T>();
  T* yp = y.as<T>();
  const float *gp = gamma.as<float>(), *bp = beta.as<float>();
  float *rmp = rm.as<float>(), *rvp = rv.as<float>(), *smp = sm.as<float>(), *sip = si.as<float>();
  const double M = (double)R;
  double* meanD = s.meanD.data();
  float *a = s.a.data(), *b = s.b.data();
  if (p.training) {
    channelSums(s, R, C, [&](int64_t r, double* sum, double*) {
      const T* q = xp + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; c++) sum[c] += loadFloat(q[c]);
    });
#pragma omp single
    for (int64_t c = 0; c < C; c++) meanD[c] = s.sum0[c] / M;
    channelSums(s, R, C, [&](int64_t r, double* sq, double*) {
      const T* q = xp + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; c++) {
        const double d = loadFloat(q[c]) - meanD[c];
        sq[c] += d * d;
      }
    });
#pragma omp single
    for (int64_t c = 0; c < C; c++) {
      const double var = s.sum0[c] / M;
      const float invStd = bnInvStd(var, p.eps);
      smp[c] = (float)meanD[c];
      sip[c] = invStd;
      bnUpdateRunning(rmp[c], rvp[c], meanD[c], var, M, p.momentum);
      BnAffine f = bnAffine((float)meanD[c], invStd, gp[c], bp[c]);
      a[c] = f.a, b[c] = f.b;
    }
  } else {
#pragma omp single
    for (int64_t c = 0; c < C; c++) {
      BnAffine f = bnAffine(rmp[c], bnInvStd((double)rvp[c], p.eps), gp[c], bp[c]);
      a[c] = f.a, b[c] = f.b;
    }
  }
#pragma omp for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const T* q = xp + r * C;
    T* o = yp + r * C;
    if (p.relu) {
#pragma omp simd
      for (int64_t c = 0; c < C; c++) storeFloat(o + c, reluValue(loadFloat(q[c]) * a[c] + b[c]));
    } else {
#pragma omp simd
      for (int64_t c = 0; c < C; c++) storeFloat(o + c, loadFloat(q[c]) * a[c] + b[c]);
    }
  }
}

template <class T>
[[gnu::always_inline]] inline void backwardNhwc(NhwcScratch& s, const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& sm,
                                                const Tensor& si, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta) {
  const int64_t C = x.shape[1], R = x.shape[0] * x.shape[2] * x.shape[3];
  const T *xp = x.as<T>(), *dyp = dy.as<T>();
  const float *gp = gamma.as<float>(), *smp = sm.as<float>(), *sip = si.as<float>();
  T* dxp = dx.as<T>();
  float *dgp = dgamma.as<float>(), *dbp = dbeta.as<float>();
  const double M = (double)R;
  float *k = s.k.data(), *mdy = s.mdy.data(), *mdyx = s.mdyx.data(), *mean = s.mean.data(), *inv = s.inv.data();
#pragma omp single
  for (int64_t c = 0; c < C; c++) mean[c] = smp[c], inv[c] = sip[c];
  channelSums(s, R, C, [&](int64_t r, double* sdy, double* sdyx) {
    const T *q = xp + r * C, *g = dyp + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) {
      const float d = loadFloat(g[c]);
      sdy[c] += d;
      sdyx[c] += (double)d * (double)((loadFloat(q[c]) - mean[c]) * inv[c]);
    }
  });
#pragma omp single
  for (int64_t c = 0; c < C; c++) {
    dbp[c] = (float)s.sum0[c];
    dgp[c] = (float)s.sum1[c];
    BnBackward f = bnBackwardCoeffs(gp[c], mean[c], inv[c], s.sum0[c], s.sum1[c], M);
    k[c] = f.k, mdy[c] = f.meanDy, mdyx[c] = f.meanDyXhat;
  }
#pragma omp for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const T *q = xp + r * C, *g = dyp + r * C;
    T* o = dxp + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++)
      storeFloat(o + c, bnBackwardElement(loadFloat(q[c]), loadFloat(g[c]), BnBackward{k[c], mdy[c], mdyx[c], mean[c], inv[c]}));
  }
}

// One clone set per entry point; the templates are inlined into each clone so that they are compiled
// for every ISA (measured on a 128x64x32x32 batch, 1 thread: backward 21 -> 15 ms, forward 15 -> 14 ms).
// The parallel region opens here, in the clone (the impls hold only the worksharing loop): a region
// inside an inlined template is outlined once, before cloning, and would run baseline x86-64 code.
// Likewise the switches are written out: a dispatching lambda would be compiled outside the clones.
#define VGG_BN_DISPATCH(impl, ...)                                                     \
  _Pragma("omp parallel") {                                                            \
    const bool bf = x.dtype == DType::bf16;                                            \
    switch (layoutBlock(x.layout)) {                                                              \
      case 16: bf ? impl<16, uint16_t>(__VA_ARGS__) : impl<16, float>(__VA_ARGS__); break; \
      case 8: bf ? impl<8, uint16_t>(__VA_ARGS__) : impl<8, float>(__VA_ARGS__); break;    \
      default: bf ? impl<1, uint16_t>(__VA_ARGS__) : impl<1, float>(__VA_ARGS__); break;   \
    }                                                                                  \
  }

VGG_SIMD_CLONES void forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& rm, const Tensor& rv,
                             const Tensor& y, const Tensor& sm, const Tensor& si, const BatchNormParams& p) {
  if (x.layout == Layout::nhwc) {
    NhwcScratch s(x.shape[1]);
#pragma omp parallel
    {
      if (x.dtype == DType::bf16) forwardNhwc<uint16_t>(s, x, gamma, beta, rm, rv, y, sm, si, p);
      else forwardNhwc<float>(s, x, gamma, beta, rm, rv, y, sm, si, p);
    }
    return;
  }
  VGG_BN_DISPATCH(forwardImpl, x, gamma, beta, rm, rv, y, sm, si, p);
}

VGG_SIMD_CLONES void backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& sm, const Tensor& si,
                              const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta) {
  if (x.layout == Layout::nhwc) {
    NhwcScratch s(x.shape[1]);
#pragma omp parallel
    {
      if (x.dtype == DType::bf16) backwardNhwc<uint16_t>(s, x, dy, gamma, sm, si, dx, dgamma, dbeta);
      else backwardNhwc<float>(s, x, dy, gamma, sm, si, dx, dgamma, dbeta);
    }
    return;
  }
  VGG_BN_DISPATCH(backwardImpl, x, dy, gamma, sm, si, dx, dgamma, dbeta);
}

}  // namespace

void CpuBackend::batchNorm2dForward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& runningMean,
                                    const Tensor& runningVar, const Tensor& y, const Tensor& saveMean, const Tensor& saveInvStd,
                                    const BatchNormParams& p) {
  forward(x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvStd, p);
}

void CpuBackend::batchNorm2dBackward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& saveMean,
                                     const Tensor& saveInvStd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, float eps,
                                     const Tensor* reluY) {
  // The ReLU's backward in place over dy (binding.d.ts allows it): the masked gradient is what the
  // BatchNorm backward reads, with no buffer of its own.
  if (reluY) reluBackward(*reluY, dy, dy);
  backward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
}

}  // namespace vgg

// Batch normalization over the channels of NCHW, plain, channel-blocked (nChw8c/nChw16c) or NHWC, in
// float32 or bfloat16 (statistics and parameters fp32): own OpenMP loops, one thread per channel block,
// with the BLK lanes of a block side by side so the inner loops vectorize. Channel sums are kept in double (two passes: mean, then squared deviations), the folding
// into scale/shift and the backward formula come from core/batchnorm_math.h (shared with CUDA). A
// following ReLU can be fused into the forward's last pass (p.relu); its backward stays the ReLU's.
#include <algorithm>
#include <cmath>
#include "core/batchnorm_math.h"
#include "core/elementwise.h"
#include "cpu/cpu_backend.h"
#include "cpu/simd.h"

namespace vgg {

namespace {

// Element (n, channel block cb, hw, lane l) of x is at n * sN + cb * sCB + hw * sHW + l: blocked
// layouts (lanes = the block), plain (one lane, hw contiguous) and NHWC (lanes = a run of channels).
struct Geometry {
  int64_t N, C, HW, CB;  // CB: channel blocks
  int64_t sN, sCB, sHW;
  int64_t at(int64_t n, int64_t cb) const { return n * sN + cb * sCB; }
};

// The lane count the loops use for x: the layout's block, or for NHWC a run of 16 or 8 channels.
int lanesOf(const Tensor& x) {
  if (x.layout != Layout::nhwc) return layoutBlock(x.layout);
  return x.shape[1] % 16 == 0 ? 16 : x.shape[1] % 8 == 0 ? 8 : 1;
}

Geometry geometryOf(const Tensor& x, int blk) {
  Geometry g;
  g.N = x.shape[0];
  g.C = x.shape[1];
  g.HW = x.shape[2] * x.shape[3];
  g.CB = (g.C + blk - 1) / blk;
  if (x.layout == Layout::nhwc) {
    g.sN = g.HW * g.C, g.sCB = blk, g.sHW = g.C;
  } else {
    g.sN = g.CB * g.HW * blk, g.sCB = g.HW * blk, g.sHW = blk;
  }
  return g;
}

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
        const T* q = xp + g.at(n, cb);
        for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
          for (int l = 0; l < BLK; l++) sum[l] += loadFloat(q[hw * g.sHW + l]);
      }
      double mean[BLK];
      for (int l = 0; l < BLK; l++) mean[l] = sum[l] / M;
      for (int64_t n = 0; n < g.N; n++) {
        const T* q = xp + g.at(n, cb);
        for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
          for (int l = 0; l < BLK; l++) {
            double d = loadFloat(q[hw * g.sHW + l]) - mean[l];
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
      const int64_t o = g.at(n, cb);
      if (p.relu) {
        for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
          for (int l = 0; l < BLK; l++) storeFloat(yp + o + hw * g.sHW + l, reluValue(loadFloat(xp[o + hw * g.sHW + l]) * a[l] + b[l]));
      } else {
        for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
          for (int l = 0; l < BLK; l++) storeFloat(yp + o + hw * g.sHW + l, loadFloat(xp[o + hw * g.sHW + l]) * a[l] + b[l]);
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
      const int64_t o = g.at(n, cb);
      for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
        for (int l = 0; l < BLK; l++) {
          const float d = loadFloat(dyp[o + hw * g.sHW + l]);
          sdy[l] += d;
          sdyx[l] += (double)d * (double)((loadFloat(xp[o + hw * g.sHW + l]) - mean[l]) * inv[l]);
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
      const int64_t o = g.at(n, cb);
      for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
        for (int l = 0; l < BLK; l++)
          storeFloat(dxp + o + hw * g.sHW + l, bnBackwardElement(loadFloat(xp[o + hw * g.sHW + l]), loadFloat(dyp[o + hw * g.sHW + l]), k[l]));
    }
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
    switch (lanesOf(x)) {                                                              \
      case 16: bf ? impl<16, uint16_t>(__VA_ARGS__) : impl<16, float>(__VA_ARGS__); break; \
      case 8: bf ? impl<8, uint16_t>(__VA_ARGS__) : impl<8, float>(__VA_ARGS__); break;    \
      default: bf ? impl<1, uint16_t>(__VA_ARGS__) : impl<1, float>(__VA_ARGS__); break;   \
    }                                                                                  \
  }

VGG_SIMD_CLONES void forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& rm, const Tensor& rv,
                             const Tensor& y, const Tensor& sm, const Tensor& si, const BatchNormParams& p) {
  VGG_BN_DISPATCH(forwardImpl, x, gamma, beta, rm, rv, y, sm, si, p);
}

VGG_SIMD_CLONES void backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& sm, const Tensor& si,
                              const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta) {
  VGG_BN_DISPATCH(backwardImpl, x, dy, gamma, sm, si, dx, dgamma, dbeta);
}

}  // namespace

void CpuBackend::batchNorm2dForward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& runningMean,
                                    const Tensor& runningVar, const Tensor& y, const Tensor& saveMean, const Tensor& saveInvStd,
                                    const BatchNormParams& p) {
  forward(x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvStd, p);
}

void CpuBackend::batchNorm2dBackward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& saveMean,
                                     const Tensor& saveInvStd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, float eps) {
  backward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
}

}  // namespace vgg

// Batch normalization over the channels of NCHW, plain or channel-blocked (nChw8c/nChw16c): own OpenMP
// loops, one thread per channel block, with the BLK lanes of a block side by side so the inner loops
// vectorize. Channel sums are kept in double (two passes: mean, then squared deviations), the folding
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

template <int BLK>
[[gnu::always_inline]] inline void forwardImpl(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& rm, const Tensor& rv, const Tensor& y,
                 const Tensor& sm, const Tensor& si, const BatchNormParams& p) {
  const Geometry g = geometryOf(x, BLK);
  const float* xp = x.as<float>();
  float* yp = y.as<float>();
  const float *gp = gamma.as<float>(), *bp = beta.as<float>();
  float *rmp = rm.as<float>(), *rvp = rv.as<float>(), *smp = sm.as<float>(), *sip = si.as<float>();
  const double M = (double)(g.N * g.HW);
#pragma omp parallel for schedule(static)
  for (int64_t cb = 0; cb < g.CB; cb++) {
    const int lanes = (int)std::min<int64_t>(BLK, g.C - cb * BLK);
    float a[BLK], b[BLK];
    if (p.training) {
      double sum[BLK] = {}, sq[BLK] = {};
      for (int64_t n = 0; n < g.N; n++) {
        const float* q = xp + base(g, BLK, n, cb);
        for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
          for (int l = 0; l < BLK; l++) sum[l] += q[hw * BLK + l];
      }
      double mean[BLK];
      for (int l = 0; l < BLK; l++) mean[l] = sum[l] / M;
      for (int64_t n = 0; n < g.N; n++) {
        const float* q = xp + base(g, BLK, n, cb);
        for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
          for (int l = 0; l < BLK; l++) {
            double d = q[hw * BLK + l] - mean[l];
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
          for (int l = 0; l < BLK; l++) yp[o + hw * BLK + l] = reluValue(xp[o + hw * BLK + l] * a[l] + b[l]);
      } else {
        for (int64_t hw = 0; hw < g.HW; hw++)
#pragma omp simd
          for (int l = 0; l < BLK; l++) yp[o + hw * BLK + l] = xp[o + hw * BLK + l] * a[l] + b[l];
      }
    }
  }
}

template <int BLK>
[[gnu::always_inline]] inline void backwardImpl(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& sm, const Tensor& si, const Tensor& dx,
                  const Tensor& dgamma, const Tensor& dbeta) {
  const Geometry g = geometryOf(x, BLK);
  const float *xp = x.as<float>(), *dyp = dy.as<float>(), *gp = gamma.as<float>(), *smp = sm.as<float>(), *sip = si.as<float>();
  float *dxp = dx.as<float>(), *dgp = dgamma.as<float>(), *dbp = dbeta.as<float>();
  const double M = (double)(g.N * g.HW);
#pragma omp parallel for schedule(static)
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
          const float d = dyp[o + hw * BLK + l];
          sdy[l] += d;
          sdyx[l] += (double)d * (double)((xp[o + hw * BLK + l] - mean[l]) * inv[l]);
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
        for (int l = 0; l < BLK; l++) dxp[o + hw * BLK + l] = bnBackwardElement(xp[o + hw * BLK + l], dyp[o + hw * BLK + l], k[l]);
    }
  }
}

// One clone set per entry point; the templates are inlined into each clone so that they are compiled
// for every ISA (measured on a 128x64x32x32 batch, 1 thread: backward 21 -> 15 ms, forward 15 -> 14 ms).
VGG_SIMD_CLONES void forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& rm, const Tensor& rv,
                             const Tensor& y, const Tensor& sm, const Tensor& si, const BatchNormParams& p) {
  switch (layoutBlock(x.layout)) {
    case 16: forwardImpl<16>(x, gamma, beta, rm, rv, y, sm, si, p); break;
    case 8: forwardImpl<8>(x, gamma, beta, rm, rv, y, sm, si, p); break;
    default: forwardImpl<1>(x, gamma, beta, rm, rv, y, sm, si, p); break;
  }
}

VGG_SIMD_CLONES void backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& sm, const Tensor& si,
                              const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta) {
  switch (layoutBlock(x.layout)) {
    case 16: backwardImpl<16>(x, dy, gamma, sm, si, dx, dgamma, dbeta); break;
    case 8: backwardImpl<8>(x, dy, gamma, sm, si, dx, dgamma, dbeta); break;
    default: backwardImpl<1>(x, dy, gamma, sm, si, dx, dgamma, dbeta); break;
  }
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

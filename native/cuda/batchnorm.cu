// BatchNorm over NHWC activations (float32 or bfloat16), our kernels: cuDNN's legacy spatial BatchNorm runs
// 8-10x slower on NHWC bf16 than on NCHW fp32 (../shared/gpu/results-2026-12-04-h200), more than all the
// convolutions of a bf16 step. Three launches each way, statistics in fp32 partials added in double:
//   forward:  channel moments of x (shifted by the channel's first value, which keeps E[x^2] - E[x]^2 from
//             cancelling) -> mean, 1/std, running statistics, affine coefficients -> y = act(x * a + b);
//   backward: sums of dy' and dy' * (x - mean), dy' = dy masked by the fused ReLU's output when given ->
//             dgamma, dbeta, coefficients -> dx.
// Per-element formulas are core/batchnorm_math.h's, shared with the CPU backend.
#include "core/batchnorm_math.h"
#include "cuda/channel_sums.cuh"
#include "cuda/cuda_backend.h"

namespace vgg {

namespace {

template <class T>
struct ShiftedMoments {
  const T* x;
  float shift;
  __device__ void init(int c) { shift = load(x[c]); }
  __device__ void operator()(float* acc, int64_t i, int) const {
    float d = load(x[i]) - shift;
    acc[0] += d;
    acc[1] += d * d;
  }
};

template <class T>
struct GradMoments {
  const T *x, *dy, *reluY;
  const float* saveMean;
  float mean;
  __device__ void init(int c) { mean = saveMean[c]; }
  __device__ void operator()(float* acc, int64_t i, int) const {
    float g = load(dy[i]);
    if (reluY) g = reluGrad(load(reluY[i]), g);
    acc[0] += g;
    acc[1] += g * (load(x[i]) - mean);
  }
};

// coef[c] = a, coef[C + c] = b of y = x * a + b.
template <class T>
__global__ void trainStatsKernel(const float* partial, int chunks, int C, const T* x, double M, const float* gamma, const float* beta,
                                 float* runningMean, float* runningVar, float momentum, float eps, float* saveMean, float* saveInvStd,
                                 float* coef) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  double dm = chunkSum(partial, chunks, 2, 0, C, c) / M;
  double var = chunkSum(partial, chunks, 2, 1, C, c) / M - dm * dm;
  if (var < 0.0) var = 0.0;
  double mean = (double)load(x[c]) + dm;
  float invStd = bnInvStd(var, eps);
  bnUpdateRunning(runningMean[c], runningVar[c], mean, var, M, momentum);
  saveMean[c] = (float)mean;
  saveInvStd[c] = invStd;
  BnAffine f = bnAffine((float)mean, invStd, gamma[c], beta[c]);
  coef[c] = f.a;
  coef[C + c] = f.b;
}

__global__ void inferCoefKernel(int C, const float* gamma, const float* beta, const float* runningMean, const float* runningVar, float eps,
                                float* coef) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  BnAffine f = bnAffine(runningMean[c], bnInvStd((double)runningVar[c], eps), gamma[c], beta[c]);
  coef[c] = f.a;
  coef[C + c] = f.b;
}

template <class T, class I>
__global__ void applyKernel(const T* x, T* y, const float* coef, I n, I C, bool relu) {
  for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (I)blockDim.x * gridDim.x) {
    I c = i % C;
    float v = load(x[i]) * coef[c] + coef[C + c];
    y[i] = store<T>(relu ? reluValue(v) : v);
  }
}

// coef[c] = k, coef[C + c] = mean(dy'), coef[2C + c] = mean(dy' * xhat) (BnBackward).
__global__ void backwardCoefKernel(const float* partial, int chunks, int C, double M, const float* gamma, const float* saveMean,
                                   const float* saveInvStd, float* dgamma, float* dbeta, float* coef) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  double sumDy = chunkSum(partial, chunks, 2, 0, C, c);
  double sumDyXhat = chunkSum(partial, chunks, 2, 1, C, c) * (double)saveInvStd[c];
  dbeta[c] = (float)sumDy;
  dgamma[c] = (float)sumDyXhat;
  BnBackward b = bnBackwardCoeffs(gamma[c], saveMean[c], saveInvStd[c], sumDy, sumDyXhat, M);
  coef[c] = b.k;
  coef[C + c] = b.meanDy;
  coef[2 * C + c] = b.meanDyXhat;
}

template <class T, class I>
__global__ void backwardApplyKernel(const T* x, const T* dy, const T* reluY, T* dx, const float* coef, const float* saveMean,
                                    const float* saveInvStd, I n, I C) {
  for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (I)blockDim.x * gridDim.x) {
    I c = i % C;
    float g = load(dy[i]);
    if (reluY) g = reluGrad(load(reluY[i]), g);
    BnBackward b{coef[c], coef[C + c], coef[2 * C + c], saveMean[c], saveInvStd[c]};
    dx[i] = store<T>(bnBackwardElement(load(x[i]), g, b));
  }
}

// Launches an elementwise kernel over n elements with 32-bit indices where they fit.
template <class Launch32, class Launch64>
void elementwise(int64_t n, Launch32&& l32, Launch64&& l64) {
  if (n < (1ll << 31)) l32(blocksFor(n));
  else l64(blocksFor(n));
}

unsigned channelBlocks(int C) { return (unsigned)((C + kThreads - 1) / kThreads); }

size_t floats(size_t n) { return (n * sizeof(float) + 255) / 256 * 256; }

}  // namespace

void launchBatchNormNhwcForward(const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& runningMean,
                                const Tensor& runningVar, const Tensor& y, const Tensor& saveMean, const Tensor& saveInvStd,
                                const BatchNormParams& p, cudaStream_t s) {
  const int C = (int)x.shape[1];
  const int64_t rows = x.numel() / C, n = x.numel();
  RowChunks rc = rowChunks(rows, C);
  float* coef;
  if (p.training) {
    auto slot = cuda().scratchSlices(op, {floats((size_t)rc.chunks * 2 * C), floats(2 * (size_t)C)});
    float* partial = (float*)slot[0];
    coef = (float*)slot[1];
    byType(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      launchChannelPartials<2>(rows, C, rc, partial, ShiftedMoments<T>{x.as<T>(), 0.0f}, s);
      trainStatsKernel<T><<<channelBlocks(C), kThreads, 0, s>>>(partial, rc.chunks, C, x.as<T>(), (double)rows, gamma.as<float>(),
                                                               beta.as<float>(), runningMean.as<float>(), runningVar.as<float>(),
                                                               p.momentum, p.eps, saveMean.as<float>(), saveInvStd.as<float>(), coef);
    });
    checkLaunch(op, "batchNormNhwcStats");
  } else {
    coef = (float*)cuda().scratch(op, floats(2 * (size_t)C));
    inferCoefKernel<<<channelBlocks(C), kThreads, 0, s>>>(C, gamma.as<float>(), beta.as<float>(), runningMean.as<float>(),
                                                           runningVar.as<float>(), p.eps, coef);
    checkLaunch(op, "inferCoefKernel");
  }
  byType(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    elementwise(
        n, [&](unsigned b) { applyKernel<T, uint32_t><<<b, kThreads, 0, s>>>(x.as<T>(), y.as<T>(), coef, (uint32_t)n, (uint32_t)C, p.relu); },
        [&](unsigned b) { applyKernel<T, uint64_t><<<b, kThreads, 0, s>>>(x.as<T>(), y.as<T>(), coef, (uint64_t)n, (uint64_t)C, p.relu); });
  });
  checkLaunch(op, "batchNormNhwcApply");
}

void launchBatchNormNhwcBackward(const char* op, const Tensor& x, const Tensor& dy, const Tensor* reluY, const Tensor& gamma,
                                 const Tensor& saveMean, const Tensor& saveInvStd, const Tensor& dx, const Tensor& dgamma,
                                 const Tensor& dbeta, cudaStream_t s) {
  const int C = (int)x.shape[1];
  const int64_t rows = x.numel() / C, n = x.numel();
  RowChunks rc = rowChunks(rows, C);
  auto slot = cuda().scratchSlices(op, {floats((size_t)rc.chunks * 2 * C), floats(3 * (size_t)C)});
  float *partial = (float*)slot[0], *coef = (float*)slot[1];
  byType(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* mask = reluY ? reluY->as<T>() : nullptr;
    launchChannelPartials<2>(rows, C, rc, partial, GradMoments<T>{x.as<T>(), dy.as<T>(), mask, saveMean.as<float>(), 0.0f}, s);
    backwardCoefKernel<<<channelBlocks(C), kThreads, 0, s>>>(partial, rc.chunks, C, (double)rows, gamma.as<float>(), saveMean.as<float>(),
                                                             saveInvStd.as<float>(), dgamma.as<float>(), dbeta.as<float>(), coef);
    elementwise(
        n,
        [&](unsigned b) {
          backwardApplyKernel<T, uint32_t><<<b, kThreads, 0, s>>>(x.as<T>(), dy.as<T>(), mask, dx.as<T>(), coef, saveMean.as<float>(),
                                                                   saveInvStd.as<float>(), (uint32_t)n, (uint32_t)C);
        },
        [&](unsigned b) {
          backwardApplyKernel<T, uint64_t><<<b, kThreads, 0, s>>>(x.as<T>(), dy.as<T>(), mask, dx.as<T>(), coef, saveMean.as<float>(),
                                                                   saveInvStd.as<float>(), (uint64_t)n, (uint64_t)C);
        });
  });
  checkLaunch(op, "batchNormNhwcBackward");
}

}  // namespace vgg

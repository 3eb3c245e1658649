// VGG_CIFAR_CUDA_NHWC=auto (the default): which implementation runs each nhwc BatchNorm and max-pooling shape,
// decided on the running GPU by timing the candidates once per shape (nhwc_tune.cc), and the pieces the tuner
// runs them with (batchnorm.cc, pool.cc, tune.cu).
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "cuda/cuda_backend.h"

namespace vgg {

// The first training forward of an nhwc BatchNorm of this shape (dtype, ReLU fused or not) times our kernels,
// cuDNN's legacy calls and the *Ex calls on synthetic data of the shape and keeps the fastest whose outputs
// agree with our kernels' (refused inside a graph capture, like an algorithm search); later calls look it up.
NhwcPath tunedBatchNorm(const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta, const BatchNormParams& p);
// What the forward of this shape chose (our kernels for a shape never tuned): its backward runs the same.
NhwcPath tunedBatchNormChoice(const Tensor& x, bool relu);
// The same for max pooling (ours or cudnn), on the first forward of a shape; pooling whose windows overlap or
// are padded runs our kernels untuned (its synthetic input could not be made free of ties).
NhwcPath tunedMaxPool(const char* op, const Tensor& x, const Tensor& y, const PoolParams& p);
NhwcPath tunedMaxPoolChoice(const Tensor& x, const Tensor& y, const PoolParams& p);
// For status().details.nhwcTuned: every shape tuned so far, each candidate's time or why it was left out, the pick.
std::string nhwcTuneSummary();

// One implementation, named by path (ours, cudnn or cudnnEx; never tuned): what the backend's ops run once the
// path is known. The cudnnEx forward and backward fall back to our kernels where cuDNN does not take the call.
void batchNormForwardVia(NhwcPath path, const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                         const Tensor& runningMean, const Tensor& runningVar, const Tensor& y, const Tensor& saveMean,
                         const Tensor& saveInvStd, const BatchNormParams& p);
void batchNormBackwardVia(NhwcPath path, const char* op, const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& saveMean,
                          const Tensor& saveInvStd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, float eps,
                          const Tensor* reluY);
void maxPoolForwardVia(NhwcPath path, const char* op, const Tensor& x, const Tensor& y, const PoolParams& p);
void maxPoolBackwardVia(NhwcPath path, const char* op, const Tensor& dy, const Tensor& x, const Tensor& y, const Tensor& dx,
                        const PoolParams& p);

// tune.cu. Uniform values in [lo, hi) plus a small per-channel offset (channel = index % channels: nhwc order).
void launchTuneUniform(const char* op, void* p, DType t, int64_t n, int64_t channels, uint64_t seed, float lo, float hi, cudaStream_t s);
// nhwc data whose values are distinct within every kh x kw window of a pooling with stride == kernel.
void launchTuneWindowRanks(const char* op, void* p, DType t, const std::vector<int64_t>& nchw, int kh, int kw, uint64_t seed, cudaStream_t s);
// sums[0] += sum (a - b)^2, sums[1] += sum b^2 (double, device memory) over n elements of dtype t.
void launchTuneSquaredDistance(const char* op, const void* a, const void* b, DType t, int64_t n, double* sums, cudaStream_t s);

}  // namespace vgg

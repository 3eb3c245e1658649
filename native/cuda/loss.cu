// Softmax cross-entropy, softmax, argmax, correct counts and sums of squares. Batches are small (N rows of
// K logits), so one block walks all rows, a thread per row, and reduces in a fixed order: results are
// deterministic and nothing comes back to the host.
#include <cmath>
#include "core/loss_math.h"
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace vgg {

// The per-row math is core/loss_math.h, shared with the CPU backend. The CPU checks labels on the host;
// here they live on the device, so a label outside [0, K) turns its row's loss and gradient into NaN
// and is recorded for the next read to report (fault.h): no out-of-bounds read, no host sync.
__global__ void softmaxCrossEntropyKernel(const float* logits, const int32_t* labels, float* dlogits, float* lossAcc, int N, int K,
                                          float smoothing, bool accumulate, DeviceFault* fault) {
  double total = 0.0;
  const float scale = 1.0f / (float)N;
  for (int i = threadIdx.x; i < N; i += blockDim.x) {
    int y = labels[i];
    float* d = dlogits ? dlogits + (int64_t)i * K : nullptr;
    if (y < 0 || y >= K) {
      recordFault(fault, kFaultLabel, y, i, K);
      total += NAN;
      if (d)
        for (int j = 0; j < K; j++) d[j] = NAN;
      continue;
    }
    total += softmaxCrossEntropyRow(logits + (int64_t)i * K, K, y, smoothing, scale, d);
  }
  total = blockSum(total);
  if (threadIdx.x == 0) {
    float mean = (float)(total / (double)N);
    lossAcc[0] = accumulate ? lossAcc[0] + mean : mean;
  }
}

__global__ void argmaxKernel(const float* logits, int32_t* out, int N, int K) {
  VGG_GRID_LOOP(i, N) out[i] = argmaxRow(logits + i * K, K);
}

__global__ void countCorrectKernel(const float* logits, const int32_t* labels, int32_t* correct, int N, int K, bool accumulate) {
  int count = 0;
  for (int i = threadIdx.x; i < N; i += blockDim.x) count += argmaxRow(logits + (int64_t)i * K, K) == labels[i];
  count = blockSum(count);
  if (threadIdx.x == 0) correct[0] = accumulate ? correct[0] + count : count;
}

__global__ void softmaxKernel(const float* logits, float* probs, int N, int K) {
  VGG_GRID_LOOP(i, N) softmaxRow(logits + i * K, K, probs + i * K);
}

constexpr int kSumBlocks = 256;

__global__ void sumSquaresPartialKernel(const float* x, int64_t n, double* partial) {
  double acc = 0.0;
  VGG_GRID_LOOP(i, n) acc += (double)x[i] * x[i];
  acc = blockSum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

__global__ void sumSquaresFinalKernel(const double* partial, float* out, bool accumulate) {
  double v = blockSum(threadIdx.x < kSumBlocks ? partial[threadIdx.x] : 0.0);
  if (threadIdx.x == 0) out[0] = accumulate ? (float)((double)out[0] + v) : (float)v;
}

void CudaBackend::softmaxCrossEntropy(const Tensor& logits, const Tensor& labels, const Tensor* dlogits, const Tensor& lossAcc,
                                      float labelSmoothing, bool accumulate) {
  const char* op = "softmaxCrossEntropy";
  requirePlainF32(op, {&logits, dlogits, &lossAcc});
  int N = (int)logits.shape[0], K = (int)logits.shape[1];
  Context& c = ctx(op);
  softmaxCrossEntropyKernel<<<1, kThreads, 0, c.stream>>>(logits.as<float>(), labels.as<int32_t>(), dlogits ? dlogits->as<float>() : nullptr,
                                                          lossAcc.as<float>(), N, K, labelSmoothing, accumulate, c.fault);
  checkLaunch(op, "softmaxCrossEntropyKernel");
}

void CudaBackend::argmax(const Tensor& logits, const Tensor& out) {
  requirePlainF32("argmax", {&logits});
  int N = (int)logits.shape[0], K = (int)logits.shape[1];
  argmaxKernel<<<blocksFor(N), kThreads, 0, ctx("argmax").stream>>>(logits.as<float>(), out.as<int32_t>(), N, K);
  checkLaunch("argmax", "argmaxKernel");
}

void CudaBackend::countCorrect(const Tensor& logits, const Tensor& labels, const Tensor& correct, bool accumulate) {
  requirePlainF32("countCorrect", {&logits});
  int N = (int)logits.shape[0], K = (int)logits.shape[1];
  countCorrectKernel<<<1, kThreads, 0, ctx("countCorrect").stream>>>(logits.as<float>(), labels.as<int32_t>(), correct.as<int32_t>(), N, K,
                                                                      accumulate);
  checkLaunch("countCorrect", "countCorrectKernel");
}

void CudaBackend::sumSquares(const Tensor& x, const Tensor& out, bool accumulate) {
  const char* op = "sumSquares";
  requirePlainF32(op, {&x, &out});
  cudaStream_t s = ctx(op).stream;
  double* partial = static_cast<double*>(workspace(op, kSumBlocks * sizeof(double)));
  sumSquaresPartialKernel<<<kSumBlocks, kThreads, 0, s>>>(x.as<float>(), x.numel(), partial);
  checkLaunch(op, "sumSquaresPartialKernel");
  sumSquaresFinalKernel<<<1, kSumBlocks, 0, s>>>(partial, out.as<float>(), accumulate);
  checkLaunch(op, "sumSquaresFinalKernel");
}

void CudaBackend::softmax(const Tensor& logits, const Tensor& probs) {
  requirePlainF32("softmax", {&logits, &probs});
  int N = (int)logits.shape[0], K = (int)logits.shape[1];
  softmaxKernel<<<blocksFor(N), kThreads, 0, ctx("softmax").stream>>>(logits.as<float>(), probs.as<float>(), N, K);
  checkLaunch("softmax", "softmaxKernel");
}

}  // namespace vgg

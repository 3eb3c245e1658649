// Softmax cross-entropy, softmax, argmax, correct counts and sums of squares. Batches are small (N rows of
// K logits), so one block walks all rows, a thread per row, and reduces in a fixed order: results are
// deterministic and nothing comes back to the host.
#include <cmath>
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace vgg {

// Label smoothing as PyTorch: target q = (1 - s) onehot(y) + s / K; loss = -sum_j q_j log p_j;
// dlogits = (p - q) / N (the gradient of the batch mean).
__global__ void softmaxCrossEntropyKernel(const float* logits, const int32_t* labels, float* dlogits, float* lossAcc, int N, int K,
                                          float smoothing, bool accumulate) {
  double total = 0.0;
  for (int i = threadIdx.x; i < N; i += blockDim.x) {
    const float* z = logits + (int64_t)i * K;
    int y = labels[i];
    float m = z[0];
    for (int j = 1; j < K; j++) m = fmaxf(m, z[j]);
    float s = 0.0f, sumLogits = 0.0f;
    for (int j = 0; j < K; j++) {
      s += expf(z[j] - m);
      sumLogits += z[j];
    }
    float lse = m + logf(s);
    if (y < 0 || y >= K) {  // a bad label poisons the loss instead of reading out of bounds
      total += NAN;
      if (dlogits)
        for (int j = 0; j < K; j++) dlogits[(int64_t)i * K + j] = NAN;
      continue;
    }
    float lossRow = (1.0f - smoothing) * (lse - z[y]) + (smoothing / K) * (K * lse - sumLogits);
    total += lossRow;
    if (dlogits) {
      float invN = 1.0f / N;
      for (int j = 0; j < K; j++) {
        float q = smoothing / K + (j == y ? 1.0f - smoothing : 0.0f);
        dlogits[(int64_t)i * K + j] = (expf(z[j] - lse) - q) * invN;
      }
    }
  }
  total = blockSum(total);
  if (threadIdx.x == 0) {
    float mean = (float)(total / N);
    lossAcc[0] = accumulate ? lossAcc[0] + mean : mean;
  }
}

__device__ int rowArgmax(const float* z, int K) {
  int best = 0;
  for (int j = 1; j < K; j++)  // first maximum wins; NaN counts as the maximum (as PyTorch)
    if (z[j] > z[best] || (isnan(z[j]) && !isnan(z[best]))) best = j;
  return best;
}

__global__ void argmaxKernel(const float* logits, int32_t* out, int N, int K) {
  VGG_GRID_LOOP(i, N) out[i] = rowArgmax(logits + i * K, K);
}

__global__ void countCorrectKernel(const float* logits, const int32_t* labels, int32_t* correct, int N, int K, bool accumulate) {
  int count = 0;
  for (int i = threadIdx.x; i < N; i += blockDim.x) count += rowArgmax(logits + (int64_t)i * K, K) == labels[i];
  count = blockSum(count);
  if (threadIdx.x == 0) correct[0] = accumulate ? correct[0] + count : count;
}

__global__ void softmaxKernel(const float* logits, float* probs, int N, int K) {
  VGG_GRID_LOOP(i, N) {
    const float* z = logits + i * K;
    float m = z[0];
    for (int j = 1; j < K; j++) m = fmaxf(m, z[j]);
    float s = 0.0f;
    for (int j = 0; j < K; j++) s += expf(z[j] - m);
    for (int j = 0; j < K; j++) probs[i * K + j] = expf(z[j] - m) / s;
  }
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
  if (threadIdx.x == 0) out[0] = accumulate ? out[0] + (float)v : (float)v;
}

void CudaBackend::softmaxCrossEntropy(const Tensor& logits, const Tensor& labels, const Tensor* dlogits, const Tensor& lossAcc,
                                      float labelSmoothing, bool accumulate) {
  const char* op = "softmaxCrossEntropy";
  requirePlainF32(op, {&logits, dlogits, &lossAcc});
  int N = (int)logits.shape[0], K = (int)logits.shape[1];
  softmaxCrossEntropyKernel<<<1, kThreads, 0, ctx(op).stream>>>(logits.as<float>(), labels.as<int32_t>(), dlogits ? dlogits->as<float>() : nullptr,
                                                                lossAcc.as<float>(), N, K, labelSmoothing, accumulate);
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

// Softmax cross-entropy, argmax, correct counts, sum of squares and softmax: loops over rows with the
// per-row math of core/loss_math.h (shared with the CUDA backend). Sums are kept in double.
#include <cmath>
#include "core/loss_math.h"
#include "cpu/cpu_backend.h"

namespace vgg {

// Labels come from the caller: a bad one is a RangeError naming its row, not an out-of-bounds read.
static void checkLabels(const char* op, const Tensor& labels, int64_t C) {
  const int32_t* l = labels.as<int32_t>();
  for (int64_t i = 0; i < labels.numel(); i++)
    if (l[i] < 0 || l[i] >= C)
      throw RangeErr(outOfRange(op, "labels", i, l[i], C));
}

void CpuBackend::softmaxCrossEntropy(const Tensor& logits, const Tensor& labels, const Tensor* dlogits, const Tensor& lossAcc,
                                     float labelSmoothing, bool accumulate) {
  const int64_t N = logits.shape[0], C = logits.shape[1];
  checkLabels("softmaxCrossEntropy", labels, C);
  const float* x = logits.as<float>();
  const int32_t* l = labels.as<int32_t>();
  float* d = dlogits ? dlogits->as<float>() : nullptr;
  const float scale = 1.0f / (float)N;
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) if (N * C > 65536)
  for (int64_t i = 0; i < N; i++)
    total += softmaxCrossEntropyRow(x + i * C, C, l[i], labelSmoothing, scale, d ? d + i * C : nullptr);
  float* acc = lossAcc.as<float>();
  float mean = (float)(total / (double)N);
  acc[0] = accumulate ? acc[0] + mean : mean;
}

void CpuBackend::argmax(const Tensor& logits, const Tensor& out) {
  const int64_t N = logits.shape[0], C = logits.shape[1];
  const float* x = logits.as<float>();
  int32_t* o = out.as<int32_t>();
  for (int64_t i = 0; i < N; i++) o[i] = argmaxRow(x + i * C, C);
}

void CpuBackend::countCorrect(const Tensor& logits, const Tensor& labels, const Tensor& correct, bool accumulate) {
  const int64_t N = logits.shape[0], C = logits.shape[1];
  const float* x = logits.as<float>();
  const int32_t* l = labels.as<int32_t>();
  int32_t n = 0;
  for (int64_t i = 0; i < N; i++) n += argmaxRow(x + i * C, C) == l[i];
  int32_t* c = correct.as<int32_t>();
  c[0] = accumulate ? c[0] + n : n;
}

void CpuBackend::sumSquares(const Tensor& x, const Tensor& out, bool accumulate) {
  const float* p = x.as<float>();
  double s = 0.0;
  const int blk = layoutBlock(x.layout);
  if (blk == 1 || x.shape[1] % blk == 0) {
    int64_t n = x.numel();
#pragma omp parallel for simd reduction(+ : s) if (n > 65536)
    for (int64_t i = 0; i < n; i++) s += (double)p[i] * (double)p[i];
  } else {  // blocked with a partial last channel block: skip the padding lanes
    const int64_t N = x.shape[0], C = x.shape[1], HW = x.shape[2] * x.shape[3], CB = (C + blk - 1) / blk;
#pragma omp parallel for collapse(2) reduction(+ : s)
    for (int64_t n = 0; n < N; n++)
      for (int64_t cb = 0; cb < CB; cb++) {
        const float* q = p + (n * CB + cb) * HW * blk;
        int lanes = (int)std::min<int64_t>(blk, C - cb * blk);
        for (int64_t hw = 0; hw < HW; hw++)
          for (int c = 0; c < lanes; c++) s += (double)q[hw * blk + c] * (double)q[hw * blk + c];
      }
  }
  float* o = out.as<float>();
  o[0] = accumulate ? (float)((double)o[0] + s) : (float)s;
}

void CpuBackend::softmax(const Tensor& logits, const Tensor& probs) {
  const int64_t N = logits.shape[0], C = logits.shape[1];
  const float* x = logits.as<float>();
  float* p = probs.as<float>();
#pragma omp parallel for if (N * C > 65536)
  for (int64_t i = 0; i < N; i++) softmaxRow(x + i * C, C, p + i * C);
}

}  // namespace vgg

// TEMPORARY STUB: replaced by the oneDNN / loop implementation.
#include "cpu/cpu_backend.h"
namespace vgg {
void CpuBackend::softmaxCrossEntropy(const Tensor& logits, const Tensor& labels, const Tensor* dlogits, const Tensor& lossAcc,
                           float labelSmoothing, bool accumulate) { throw RangeErr("softmaxCrossEntropy: not implemented on the cpu yet"); }
void CpuBackend::argmax(const Tensor& logits, const Tensor& out) { throw RangeErr("argmax: not implemented on the cpu yet"); }
void CpuBackend::countCorrect(const Tensor& logits, const Tensor& labels, const Tensor& correct, bool accumulate) { throw RangeErr("countCorrect: not implemented on the cpu yet"); }
void CpuBackend::sumSquares(const Tensor& x, const Tensor& out, bool accumulate) { throw RangeErr("sumSquares: not implemented on the cpu yet"); }
void CpuBackend::softmax(const Tensor& logits, const Tensor& probs) { throw RangeErr("softmax: not implemented on the cpu yet"); }
}  // namespace vgg

// TEMPORARY STUB: replaced by the oneDNN / loop implementation.
#include "cpu/cpu_backend.h"
namespace vgg {
void CpuBackend::reluForward(const Tensor& x, const Tensor& y) { throw RangeErr("reluForward: not implemented on the cpu yet"); }
void CpuBackend::reluBackward(const Tensor& y, const Tensor& dy, const Tensor& dx) { throw RangeErr("reluBackward: not implemented on the cpu yet"); }
void CpuBackend::dropoutForward(const Tensor& x, const Tensor& mask, const Tensor& y, float p, uint64_t seed) { throw RangeErr("dropoutForward: not implemented on the cpu yet"); }
void CpuBackend::dropoutBackward(const Tensor& dy, const Tensor& mask, const Tensor& dx, float p) { throw RangeErr("dropoutBackward: not implemented on the cpu yet"); }
void CpuBackend::axpby(const Tensor& x, const Tensor& y, float alpha, float beta) { throw RangeErr("axpby: not implemented on the cpu yet"); }
}  // namespace vgg

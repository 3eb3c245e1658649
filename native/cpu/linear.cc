// TEMPORARY STUB: replaced by the oneDNN / loop implementation.
#include "cpu/cpu_backend.h"
namespace vgg {
void CpuBackend::linearForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, bool fuseRelu) { throw RangeErr("linearForward: not implemented on the cpu yet"); }
void CpuBackend::linearBackward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor* dx, const Tensor& dw, const Tensor* db) { throw RangeErr("linearBackward: not implemented on the cpu yet"); }
}  // namespace vgg

// TEMPORARY STUB: replaced by the oneDNN / loop implementation.
#include "cpu/cpu_backend.h"
namespace vgg {
size_t CpuBackend::maxPool2dWorkspaceSize(const Tensor& x, const Tensor& y, const PoolParams& p) { throw RangeErr("maxPool2dWorkspaceSize: not implemented on the cpu yet"); return 0;}
void CpuBackend::maxPool2dForward(const Tensor& x, const Tensor& y, const Tensor* ws, const PoolParams& p) { throw RangeErr("maxPool2dForward: not implemented on the cpu yet"); }
void CpuBackend::maxPool2dBackward(const Tensor& dy, const Tensor& x, const Tensor& y, const Tensor& ws, const Tensor& dx, const PoolParams& p) { throw RangeErr("maxPool2dBackward: not implemented on the cpu yet"); }
}  // namespace vgg

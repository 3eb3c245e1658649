// TEMPORARY STUB: replaced by the oneDNN / loop implementation.
#include "cpu/cpu_backend.h"
namespace vgg {
void CpuBackend::conv2dForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, const ConvParams& p, bool fuseRelu) { throw RangeErr("conv2dForward: not implemented on the cpu yet"); }
void CpuBackend::conv2dBackwardData(const Tensor& dy, const Tensor& w, const Tensor& dx, const ConvParams& p) { throw RangeErr("conv2dBackwardData: not implemented on the cpu yet"); }
void CpuBackend::conv2dBackwardFilter(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor* db, const ConvParams& p) { throw RangeErr("conv2dBackwardFilter: not implemented on the cpu yet"); }
}  // namespace vgg

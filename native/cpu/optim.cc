// TEMPORARY STUB: replaced by the oneDNN / loop implementation.
#include "cpu/cpu_backend.h"
namespace vgg {
void CpuBackend::sgdUpdate(const Tensor& param, const Tensor& grad, const Tensor* momentumBuf, const SgdParams& p) { throw RangeErr("sgdUpdate: not implemented on the cpu yet"); }
void CpuBackend::adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor* vmax, const AdamParams& p) { throw RangeErr("adamUpdate: not implemented on the cpu yet"); }
void CpuBackend::adagradUpdate(const Tensor& param, const Tensor& grad, const Tensor& sum, const AdagradParams& p) { throw RangeErr("adagradUpdate: not implemented on the cpu yet"); }
}  // namespace vgg

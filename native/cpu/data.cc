// TEMPORARY STUB: replaced by the oneDNN / loop implementation.
#include "cpu/cpu_backend.h"
namespace vgg {
void CpuBackend::loadBatch(const Tensor& dataset, const Tensor& indices, const Tensor& out, const BatchParams& p) { throw RangeErr("loadBatch: not implemented on the cpu yet"); }
void CpuBackend::gatherLabels(const Tensor& labels, const Tensor& indices, const Tensor& out) { throw RangeErr("gatherLabels: not implemented on the cpu yet"); }
}  // namespace vgg

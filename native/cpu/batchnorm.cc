// TEMPORARY STUB: replaced by the oneDNN / loop implementation.
#include "cpu/cpu_backend.h"
namespace vgg {
void CpuBackend::batchNorm2dForward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& runningMean, const Tensor& runningVar,
                          const Tensor& y, const Tensor& saveMean, const Tensor& saveInvStd, const BatchNormParams& p) { throw RangeErr("batchNorm2dForward: not implemented on the cpu yet"); }
void CpuBackend::batchNorm2dBackward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& saveMean, const Tensor& saveInvStd,
                           const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, float eps) { throw RangeErr("batchNorm2dBackward: not implemented on the cpu yet"); }
}  // namespace vgg

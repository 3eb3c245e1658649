// Bad values that only the device sees: labels and batch indices live on the GPU, and checking them on
// the host would cost a copy and a sync every step. The kernel that meets one makes its row or sample
// NaN (never an out-of-bounds read) and records the first such value here; the next read from the
// device (toArray: every few steps in training) throws the same RangeError the CPU backend throws at
// once, naming the op, the position and the value.
#pragma once
#include <string>
#include "core/errors.h"
#include "core/optim_multi.h"

namespace vgg {

enum FaultCode : int { kFaultNone = 0, kFaultLabel = 1, kFaultBatchIndex = 2, kFaultGatherIndex = 3,
                 // a multi-tensor optimizer update given the wrong coefficients (value: the tag found, position: the
                 // kind wanted, limit: 1 when the optional state list was missing); the kernel updated nothing
                 kFaultOptimCoeffs = 4 };

struct DeviceFault {
  int code;  // FaultCode of the first fault since the last check
  int value;
  long long position;
  long long limit;
};

inline std::string faultMessage(const DeviceFault& f) {
  if (f.code == kFaultOptimCoeffs) {
    OptimKind want = (OptimKind)(uint32_t)f.position;
    std::string op = std::string(optimKindName((uint32_t)want)) + "UpdateMulti";
    return coeffProblem(op.c_str(), want, (uint32_t)f.value, f.limit != 0) +
           " (found on the GPU, which updated nothing; reported at the next read from the device)";
  }
  const char* op = f.code == kFaultLabel ? "softmaxCrossEntropy" : f.code == kFaultBatchIndex ? "loadBatch" : "gatherLabels";
  return outOfRange(op, f.code == kFaultLabel ? "labels" : "indices", f.position, f.value, f.limit) +
         " (found on the GPU; reported at the next read from the device)";
}

#ifdef __CUDACC__
__device__ inline void recordFault(DeviceFault* f, int code, int value, long long position, long long limit) {
  if (atomicCAS(&f->code, 0, -1) == 0) {  // first fault wins; -1 keeps others out while the fields are written
    f->value = value;
    f->position = position;
    f->limit = limit;
    __threadfence();
    atomicExch(&f->code, code);
  }
}
#endif

}  // namespace vgg

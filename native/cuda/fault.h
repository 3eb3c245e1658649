// Bad values that only the device sees: labels and batch indices live on the GPU, and checking them on
// the host would cost a copy and a sync every step. The kernel that meets one makes its row or sample
// NaN (never an out-of-bounds read) and records the first such value here; the next read from the
// device (toArray: every few steps in training) throws the same RangeError the CPU backend throws at
// once, naming the op, the position and the value.
#pragma once
#include <string>
#include "core/errors.h"

namespace vgg {

enum FaultCode : int { kFaultNone = 0, kFaultLabel = 1, kFaultBatchIndex = 2, kFaultGatherIndex = 3 };

struct DeviceFault {
  int code;  // FaultCode of the first fault since the last check
  int value;
  long long position;
  long long limit;
};

inline std::string faultMessage(const DeviceFault& f) {
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

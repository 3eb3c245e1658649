#include "core/backend.h"
#include "core/errors.h"

namespace vgg {

Backend& backendFor(Device d) {
  if (d == Device::cpu) return cpuBackend();
  Backend* b = cudaBackend();
  if (!b) throw RangeErr(std::string("the cuda backend is not compiled into this addon: ") + VGG_CUDA_REASON);
  BackendStatus s = b->status();
  if (!s.available) throw RangeErr("the cuda backend cannot run here: " + s.reason);
  return *b;
}

}  // namespace vgg

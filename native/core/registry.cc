#include "core/backend.h"
#include "core/capture.h"
#include "core/errors.h"

namespace vgg {

Backend& backendFor(Device d) {
  if (d == Device::cpu) {
    // A cpu op runs at once: inside a capture it would not be replayed with the graph.
    requireNotCapturing("cpu", "an op on the cpu backend (it runs when called; only cuda ops are captured)");
    return cpuBackend();
  }
  Backend* b = cudaBackend();
  if (!b) throw RangeErr(std::string("the cuda backend is not compiled into this addon: ") + VGG_CUDA_REASON);
  BackendStatus s = b->status();
  if (!s.available) throw RangeErr("the cuda backend cannot run here: " + s.reason);
  return *b;
}

}  // namespace vgg

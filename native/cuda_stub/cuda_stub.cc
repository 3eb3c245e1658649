// Built instead of native/cuda/ when nvcc is absent or VGG_CIFAR_CUDA=OFF.
#include "core/backend.h"
#include "core/timing.h"

namespace vgg {
Backend* cudaBackend() { return nullptr; }
DeviceTiming* cudaTiming() { return nullptr; }
}  // namespace vgg

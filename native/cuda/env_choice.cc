// The switches that pick between candidate implementations for a GPU run to compare (VGG_CIFAR_CUDA_NHWC,
// VGG_CIFAR_CUDA_CONV): one parser, so each names its allowed values the same way.
#include <cstdlib>
#include "cuda/cuda_backend.h"

namespace vgg {

EnvChoice readEnvChoice(const char* var, std::initializer_list<const char*> values) {
  EnvChoice r;
  const char* v = std::getenv(var);
  std::string s = v ? v : "";
  if (s.empty()) return r;
  size_t i = 0;
  std::string allowed;
  for (const char* name : values) {
    if (s == name) {
      r.index = i;
      return r;
    }
    allowed += (i ? ", " : "") + std::string(name) + (i ? "" : " (the default, also when unset)");
    i++;
  }
  r.problem = std::string(var) + "=\"" + s + "\" is not one of: " + allowed;
  return r;
}

}  // namespace vgg

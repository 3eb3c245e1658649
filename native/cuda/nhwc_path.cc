// VGG_CIFAR_CUDA_NHWC: which implementation runs NHWC BatchNorm and max pooling (cuda_backend.h), read and
// checked once per process. An unknown value makes the backend unavailable with the reason (status()),
// so a typo cannot silently measure the default path.
#include <cstdlib>
#include <string>
#include "cuda/cuda_backend.h"

namespace vgg {

namespace {

struct Choice {
  NhwcPath path = NhwcPath::ours;
  std::string problem;
};

const Choice& choice() {
  static const Choice c = [] {
    Choice r;
    const char* v = std::getenv("VGG_CIFAR_CUDA_NHWC");
    std::string s = v ? v : "";
    if (s.empty() || s == "ours") r.path = NhwcPath::ours;
    else if (s == "cudnn") r.path = NhwcPath::cudnn;
    else if (s == "cudnn-ex") r.path = NhwcPath::cudnnEx;
    else
      r.problem = "VGG_CIFAR_CUDA_NHWC=\"" + s + "\" is not one of: ours (the default, also when unset), cudnn, cudnn-ex";
    return r;
  }();
  return c;
}

}  // namespace

NhwcPath nhwcPath() {
  const Choice& c = choice();
  if (!c.problem.empty()) throw RangeErr(c.problem);
  return c.path;
}

std::string nhwcPathProblem() { return choice().problem; }

std::string nhwcPathDetail() {
  const Choice& c = choice();
  if (!c.problem.empty()) return "invalid: " + c.problem;
  switch (c.path) {
    case NhwcPath::ours: return "ours: our BatchNorm and max-pool kernels";
    case NhwcPath::cudnn: return "cudnn: cuDNN's legacy BatchNorm and pooling calls";
    case NhwcPath::cudnnEx: break;
  }
  std::string missing = cudnnExMissing();
  std::string pool = "; pooling through cuDNN's legacy calls (there is no *Ex pooling)";
  if (!missing.empty()) return "cudnn-ex requested, but the loaded cuDNN lacks " + missing + ": BatchNorm runs our kernels" + pool;
  return "cudnn-ex: BatchNorm training through cudnnBatchNormalization*Ex (SPATIAL_PERSISTENT, fused ReLU), inference through our "
         "kernels" + pool;
}

}  // namespace vgg

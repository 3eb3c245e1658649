// VGG_CIFAR_CUDA_NHWC: which implementation runs NHWC BatchNorm and max pooling (cuda_backend.h), read and
// checked once per process: auto (tuned per shape, tune.h) unless a fixed one is named. An unknown value makes the backend unavailable with the reason (status()),
// so a typo cannot silently measure the default path.
#include <string>
#include "cuda/cuda_backend.h"

namespace vgg {

namespace {

const EnvChoice& choice() {
  static const EnvChoice c = readEnvChoice("VGG_CIFAR_CUDA_NHWC", {"auto", "ours", "cudnn", "cudnn-ex"});
  return c;
}

}  // namespace

NhwcPath nhwcPath() { return chosen<NhwcPath>(choice()); }

std::string nhwcPathProblem() { return choice().problem; }

std::string nhwcPathDetail() {
  const EnvChoice& c = choice();
  if (!c.problem.empty()) return "invalid: " + c.problem;
  std::string missing = cudnnExMissing();
  switch (chosen<NhwcPath>(c)) {
    case NhwcPath::tuned:
      return "auto: per shape, the fastest on this GPU of our kernels, cuDNN's legacy calls" +
             std::string(missing.empty() ? " and (BatchNorm) the *Ex calls" : " (the loaded cuDNN lacks " + missing + ")") +
             " whose results agree with our kernels' (details.nhwcTuned)";
    case NhwcPath::ours: return "ours: our BatchNorm and max-pool kernels";
    case NhwcPath::cudnn: return "cudnn: cuDNN's legacy BatchNorm and pooling calls";
    case NhwcPath::cudnnEx: break;
  }
  std::string pool = "; pooling through cuDNN's legacy calls (there is no *Ex pooling)";
  if (!missing.empty()) return "cudnn-ex requested, but the loaded cuDNN lacks " + missing + ": BatchNorm runs our kernels" + pool;
  return "cudnn-ex: BatchNorm training through cudnnBatchNormalization*Ex (SPATIAL_PERSISTENT, fused ReLU), inference through our "
         "kernels" + pool;
}

}  // namespace vgg

// Plain parameter structs of the ops; the same fields as binding.d.ts.
#pragma once
#include <cstdint>
#include <vector>

namespace vgg {

struct ConvParams { int strideH = 1, strideW = 1, padH = 0, padW = 0; };
struct PoolParams { int kernelH = 2, kernelW = 2, strideH = 2, strideW = 2, padH = 0, padW = 0; };
struct BatchNormParams { bool training = true; float momentum = 0.1f; float eps = 1e-5f; bool relu = false; };

struct SgdParams { float lr, momentum, dampening; bool nesterov; float weightDecay; bool maximize; bool firstStep; };
struct AdamParams { float lr, beta1, beta2, eps, weightDecay; bool decoupled, amsgrad, maximize; int64_t step; };
struct AdagradParams { float lr, lrDecay, weightDecay, eps; bool maximize; int64_t step; };

enum class PadMode : uint8_t { zero, reflect };
struct BatchParams {
  float scale = 1.0f / 255.0f;
  std::vector<float> mean, std;  // empty: no normalization
  int cropPad = 0;
  PadMode padMode = PadMode::zero;
  bool flip = false;
  int cutout = 0;  // side of the Cutout square, 0: off
  uint64_t seed = 0;
};

}  // namespace vgg

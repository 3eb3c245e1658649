// Per-element math of ReLU and inverted dropout. The dropout mask is drawn from the counter-based RNG
// with the element index as the counter, so the CPU and CUDA backends drop the same elements.
#pragma once
#include <cstdint>
#include "core/hd.h"
#include "core/rng.h"

namespace vgg {

// 1 keeps element i, 0 drops it; P(drop) = p.
VGG_HD uint8_t dropoutKeep(uint64_t seed, uint64_t i, float p) { return rngUniform(seed, i) >= p ? 1 : 0; }
// The scale of kept elements, 1 / (1 - p) rounded once to float (y = x * mask * scale).
VGG_HD float dropoutScale(float p) { return 1.0f / (1.0f - p); }

// ReLU: y = max(x, 0) (NaN propagates like torch.relu); backward passes dy where the output is positive.
VGG_HD float reluValue(float x) { return x < 0.0f ? 0.0f : x; }
VGG_HD float reluGrad(float y, float dy) { return y > 0.0f ? dy : 0.0f; }

}  // namespace vgg

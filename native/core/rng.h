// Counter-based random numbers: a value depends only on (seed, counter), never on thread order, so the
// CPU and CUDA backends draw the same crops, flips and dropout masks.
#pragma once
#include <cstdint>
#include "core/hd.h"

namespace vgg {

// SplitMix64 finalizer: a strong 64-bit mix.
VGG_HD uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
VGG_HD uint64_t rngBits(uint64_t seed, uint64_t counter) { return mix64(mix64(seed) ^ (counter * 0xD1B54A32D192ED03ull)); }
// Uniform in [0, 1) with 24 bits of precision.
VGG_HD float rngUniform(uint64_t seed, uint64_t counter) { return (float)(rngBits(seed, counter) >> 40) * (1.0f / 16777216.0f); }
// Uniform integer in [0, n).
VGG_HD uint32_t rngBelow(uint64_t seed, uint64_t counter, uint32_t n) { return (uint32_t)((rngBits(seed, counter) >> 32) % n); }

// The seed an op uses: the uint32 whose bits a seed tensor (int32 [1]) holds, or the number passed when
// there is none. A seed in device memory lets a replayed CUDA graph draw a new mask each step.
VGG_HD uint64_t seedFrom(const int32_t* seedBits, uint64_t seed) { return seedBits ? (uint64_t)(uint32_t)seedBits[0] : seed; }

}  // namespace vgg

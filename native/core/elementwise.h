// Per-element math of ReLU and inverted dropout. The dropout mask is drawn from the counter-based RNG
// with the element index as the counter, so the CPU and CUDA backends drop the same elements.
#pragma once
#include <cstdint>
#include <cstring>
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

// bfloat16 as its 16 bits (the top half of an fp32): fp32 -> bf16 rounds to nearest, ties to even, like
// PyTorch's .to(torch.bfloat16); NaN stays NaN (quiet); bf16 -> fp32 is exact.
// Written as a select, not an early return, so that loops over it vectorize.
VGG_HD uint16_t floatToBf16(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16, quietNan = (u >> 16) | 0x0040u;
  return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? quietNan : rounded);
}
VGG_HD float bf16ToFloat(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

// Element access for loops written once for float32 and bfloat16 storage (bf16 held as its bits):
// math in fp32, loads widen exactly, stores round to nearest even.
VGG_HD float loadFloat(float x) { return x; }
VGG_HD float loadFloat(uint16_t h) { return bf16ToFloat(h); }
VGG_HD void storeFloat(float* p, float v) { *p = v; }
VGG_HD void storeFloat(uint16_t* p, float v) { *p = floatToBf16(v); }

}  // namespace vgg

// The per-sample transform of loadBatch (gather, random crop with padding, horizontal flip, ToTensor
// scaling, per-channel normalization, Cutout), written once so that the CPU and CUDA backends produce the same
// batch bit for bit from the same seed. Order as torchvision: Pad -> RandomCrop -> RandomHorizontalFlip
// on the uint8 image, then ToTensor (x * scale) and Normalize ((x - mean) / std); zero padding is a
// pixel value of 0 before normalization.
#pragma once
#include <cstdint>
#include "core/hd.h"
#include "core/rng.h"

namespace vgg {

// Multiply and subtract without FMA contraction (nvcc contracts by default; the CPU build does not), so
// both backends round the same way.
VGG_HD float mulRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
VGG_HD float subRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

struct CropFlip { int32_t dy, dx; bool flip; };

// The random choice of batch position b: crop offsets in [0, 2 * cropPad] into the padded image and a
// flip with probability 1/2. Counters 3b, 3b + 1, 3b + 2 of the seed's stream.
VGG_HD CropFlip drawCropFlip(uint64_t seed, int64_t b, int32_t cropPad, bool flip) {
  CropFlip r{cropPad, cropPad, false};
  uint64_t base = (uint64_t)b * 3u;
  if (cropPad > 0) {
    r.dy = (int32_t)rngBelow(seed, base, (uint32_t)(2 * cropPad + 1));
    r.dx = (int32_t)rngBelow(seed, base + 1, (uint32_t)(2 * cropPad + 1));
  }
  if (flip) r.flip = rngUniform(seed, base + 2) < 0.5f;
  return r;
}

// Cutout (DeVries & Taylor, arXiv:1708.04552, 2017): a size x size square centred at a uniformly drawn
// pixel, so that it may hang over the edges, is set to 0 after normalization (the mean pixel). Its own
// counters, far above the crop's and flip's, so turning it on leaves those draws as they were.
struct Cutout { int32_t y0, x0, size; };
constexpr uint64_t kCutoutCounters = 1ull << 48;

VGG_HD Cutout drawCutout(uint64_t seed, int64_t b, int32_t size, int32_t H, int32_t W) {
  if (size <= 0) return Cutout{0, 0, 0};
  uint64_t base = kCutoutCounters + (uint64_t)b * 2u;
  int32_t cy = (int32_t)rngBelow(seed, base, (uint32_t)H), cx = (int32_t)rngBelow(seed, base + 1, (uint32_t)W);
  return Cutout{cy - size / 2, cx - size / 2, size};
}

VGG_HD bool inCutout(int32_t y, int32_t x, const Cutout& c) {
  return c.size > 0 && y >= c.y0 && y < c.y0 + c.size && x >= c.x0 && x < c.x0 + c.size;
}

// torch.nn.functional.pad(mode='reflect') index (edge not repeated); needs pad < n.
VGG_HD int32_t reflectIndex(int32_t i, int32_t n) {
  if (i < 0) i = -i;
  if (i >= n) i = 2 * (n - 1) - i;
  return i;
}

// Source row/column in the original image of output (y, x) of an H x W sample, or -1 when it falls in
// zero padding. Crop first (offset into the padded image), then flip the cropped image.
VGG_HD int32_t sourceRow(int32_t y, int32_t H, int32_t cropPad, const CropFlip& cf, bool reflect) {
  int32_t sy = y + cf.dy - cropPad;
  if (sy >= 0 && sy < H) return sy;
  return reflect ? reflectIndex(sy, H) : -1;
}
VGG_HD int32_t sourceCol(int32_t x, int32_t W, int32_t cropPad, const CropFlip& cf, bool reflect) {
  int32_t xc = cf.flip ? W - 1 - x : x;
  int32_t sx = xc + cf.dx - cropPad;
  if (sx >= 0 && sx < W) return sx;
  return reflect ? reflectIndex(sx, W) : -1;
}

// ToTensor then Normalize: (v * scale - mean) / std; with no normalization pass mean 0, std 1.
VGG_HD float normalizePixel(uint8_t v, float scale, float mean, float std) {
  return subRn(mulRn((float)v, scale), mean) / std;
}

}  // namespace vgg

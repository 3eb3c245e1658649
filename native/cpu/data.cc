// loadBatch and gatherLabels: gather samples of a uint8 NCHW dataset by index, with the crop/flip/
// normalize transform of core/augment.h (shared with the CUDA backend, so both give the same batch).
#include "core/augment.h"
#include "cpu/cpu_backend.h"

namespace vgg {

static void checkIndices(const char* op, const Tensor& indices, int64_t N) {
  const int32_t* ix = indices.as<int32_t>();
  for (int64_t b = 0; b < indices.numel(); b++)
    if (ix[b] < 0 || ix[b] >= N)
      throw RangeErr(outOfRange(op, "indices", b, ix[b], N));
}

void CpuBackend::loadBatch(const Tensor& dataset, const Tensor& indices, const Tensor& out, const BatchParams& p, const Tensor* seedTensor) {
  const int64_t N = dataset.shape[0], C = dataset.shape[1];
  const int32_t H = (int32_t)dataset.shape[2], W = (int32_t)dataset.shape[3];
  const int64_t B = indices.numel();
  checkIndices("loadBatch", indices, N);
  const uint8_t* src = dataset.as<uint8_t>();
  const int32_t* ix = indices.as<int32_t>();
  float* dst = out.as<float>();
  const bool norm = !p.mean.empty(), reflect = p.padMode == PadMode::reflect;
  const int64_t plane = (int64_t)H * W;
  const uint64_t seed = seedFrom(seedTensor ? seedTensor->as<int32_t>() : nullptr, p.seed);
#pragma omp parallel for collapse(2) if (B * C * plane > 65536)
  for (int64_t b = 0; b < B; b++)
    for (int64_t c = 0; c < C; c++) {
      const CropFlip cf = drawCropFlip(seed, b, p.cropPad, p.flip);
      const Cutout cut = drawCutout(seed, b, p.cutout, H, W);
      const uint8_t* s = src + ((int64_t)ix[b] * C + c) * plane;
      float* o = dst + (b * C + c) * plane;
      const float mean = norm ? p.mean[c] : 0.0f, std = norm ? p.std[c] : 1.0f;
      for (int32_t y = 0; y < H; y++) {
        int32_t sy = sourceRow(y, H, p.cropPad, cf, reflect);
        for (int32_t x = 0; x < W; x++) {
          int32_t sx = sourceCol(x, W, p.cropPad, cf, reflect);
          uint8_t v = (sy < 0 || sx < 0) ? 0 : s[(int64_t)sy * W + sx];
          o[(int64_t)y * W + x] = inCutout(y, x, cut) ? 0.0f : normalizePixel(v, p.scale, mean, std);
        }
      }
    }
}

void CpuBackend::gatherLabels(const Tensor& labels, const Tensor& indices, const Tensor& out) {
  const int64_t N = labels.numel(), B = indices.numel();
  checkIndices("gatherLabels", indices, N);
  const int32_t* ix = indices.as<int32_t>();
  int32_t* o = out.as<int32_t>();
  if (labels.dtype == DType::u8) {
    const uint8_t* l = labels.as<uint8_t>();
    for (int64_t b = 0; b < B; b++) o[b] = l[ix[b]];
  } else {
    const int32_t* l = labels.as<int32_t>();
    for (int64_t b = 0; b < B; b++) o[b] = l[ix[b]];
  }
}

}  // namespace vgg

// Batch assembly on the GPU: the dataset lives on the device as uint8; a batch is gathered by index,
// scaled, normalized, randomly cropped and flipped in one kernel. Crops and flips come from the
// counter-based RNG of core/rng.h, drawn per image exactly as the CPU backend does.
#include "core/rng.h"
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace vgg {

namespace {

constexpr int kMaxChannels = 8;

struct BatchArgs {
  int N, C, H, W, B, pad;
  bool reflect, flip, normalize;
  float scale;
  float mean[kMaxChannels], std[kMaxChannels];
  uint64_t seed;
};

__device__ int reflectIndex(int i, int n) {
  if (i < 0) i = -i;
  if (i >= n) i = 2 * (n - 1) - i;
  return i;
}

__global__ void loadBatchKernel(const uint8_t* data, const int32_t* indices, float* out, BatchArgs a) {
  int64_t total = (int64_t)a.B * a.C * a.H * a.W;
  VGG_GRID_LOOP(e, total) {
    int w = (int)(e % a.W), h = (int)(e / a.W % a.H), c = (int)(e / ((int64_t)a.W * a.H) % a.C);
    int b = (int)(e / ((int64_t)a.W * a.H * a.C));
    int idx = indices[b];
    if (idx < 0 || idx >= a.N) {  // a bad index poisons the batch instead of reading out of bounds
      out[e] = NAN;
      continue;
    }
    // Per image: crop offsets in [0, 2 pad], then a flip of the cropped image (RandomCrop, then
    // RandomHorizontalFlip, as torchvision composes them).
    int oy = 0, ox = 0;
    if (a.pad > 0) {
      oy = (int)rngBelow(a.seed, 3 * (uint64_t)b, 2 * a.pad + 1);
      ox = (int)rngBelow(a.seed, 3 * (uint64_t)b + 1, 2 * a.pad + 1);
    }
    bool flip = a.flip && rngUniform(a.seed, 3 * (uint64_t)b + 2) < 0.5f;
    int sy = oy + h - a.pad;
    int sx = ox + (flip ? a.W - 1 - w : w) - a.pad;
    float v = 0.0f;
    if (a.reflect) {
      sy = reflectIndex(sy, a.H);
      sx = reflectIndex(sx, a.W);
    }
    if (sy >= 0 && sy < a.H && sx >= 0 && sx < a.W) v = (float)data[(((int64_t)idx * a.C + c) * a.H + sy) * a.W + sx];
    v *= a.scale;
    if (a.normalize) v = (v - a.mean[c]) / a.std[c];
    out[e] = v;
  }
}

template <class T>
__global__ void gatherLabelsKernel(const T* labels, const int32_t* indices, int32_t* out, int B, int N) {
  VGG_GRID_LOOP(i, B) {
    int idx = indices[i];
    out[i] = idx >= 0 && idx < N ? (int32_t)labels[idx] : -1;
  }
}

}  // namespace

void CudaBackend::loadBatch(const Tensor& dataset, const Tensor& indices, const Tensor& out, const BatchParams& p) {
  const char* op = "loadBatch";
  requirePlainF32(op, {&out});
  BatchArgs a{};
  a.N = (int)dataset.shape[0];
  a.C = (int)dataset.shape[1];
  a.H = (int)dataset.shape[2];
  a.W = (int)dataset.shape[3];
  a.B = (int)indices.numel();
  a.pad = p.cropPad;
  a.reflect = p.padMode == PadMode::reflect;
  a.flip = p.flip;
  a.scale = p.scale;
  a.seed = p.seed;
  a.normalize = !p.mean.empty();
  if (a.normalize) {
    if (a.C > kMaxChannels)
      throw RangeErr(std::string(op) + ": the cuda backend normalizes at most " + std::to_string(kMaxChannels) + " channels, got " +
                     dataset.describe());
    for (int c = 0; c < a.C; c++) {
      a.mean[c] = p.mean[c];
      a.std[c] = p.std[c];
    }
  }
  int64_t total = out.numel();
  loadBatchKernel<<<blocksFor(total), kThreads, 0, ctx(op).stream>>>(dataset.as<uint8_t>(), indices.as<int32_t>(), out.as<float>(), a);
  checkLaunch(op, "loadBatchKernel");
}

void CudaBackend::gatherLabels(const Tensor& labels, const Tensor& indices, const Tensor& out) {
  const char* op = "gatherLabels";
  int B = (int)indices.numel(), N = (int)labels.numel();
  cudaStream_t s = ctx(op).stream;
  if (labels.dtype == DType::u8)
    gatherLabelsKernel<uint8_t><<<blocksFor(B), kThreads, 0, s>>>(labels.as<uint8_t>(), indices.as<int32_t>(), out.as<int32_t>(), B, N);
  else
    gatherLabelsKernel<int32_t><<<blocksFor(B), kThreads, 0, s>>>(labels.as<int32_t>(), indices.as<int32_t>(), out.as<int32_t>(), B, N);
  checkLaunch(op, "gatherLabelsKernel");
}

}  // namespace vgg

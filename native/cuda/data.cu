// Batch assembly on the GPU: the dataset lives on the device as uint8; a batch is gathered by index,
// randomly cropped and flipped, scaled and normalized in one kernel.
#include "core/augment.h"
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace vgg {

namespace {

constexpr int kMaxChannels = 8;

struct BatchArgs {
  int N, C, H, W, B, pad, cutout;
  bool reflect, flip, normalize;
  float scale;
  float mean[kMaxChannels], std[kMaxChannels];
  uint64_t seed;
};

// One thread per output element; the transform is core/augment.h, shared with the CPU backend, so the
// batch matches the CPU's bit for bit. Indices live on the device: an out-of-range one turns its sample
// into NaN and is recorded for the next read to report (fault.h; the CPU checks them on the host).
__global__ void loadBatchKernel(const uint8_t* data, const int32_t* indices, float* out, BatchArgs a, const int32_t* seedBits,
                                DeviceFault* fault) {
  const uint64_t seed = seedFrom(seedBits, a.seed);
  int64_t total = (int64_t)a.B * a.C * a.H * a.W;
  VGG_GRID_LOOP(e, total) {
    int32_t x = (int32_t)(e % a.W), y = (int32_t)(e / a.W % a.H);
    int c = (int)(e / ((int64_t)a.W * a.H) % a.C);
    int64_t b = e / ((int64_t)a.W * a.H * a.C);
    int idx = indices[b];
    if (idx < 0 || idx >= a.N) {
      recordFault(fault, kFaultBatchIndex, idx, b, a.N);
      out[e] = NAN;
      continue;
    }
    CropFlip cf = drawCropFlip(seed, b, a.pad, a.flip);
    if (inCutout(y, x, drawCutout(seed, b, a.cutout, a.H, a.W))) {
      out[e] = 0.0f;
      continue;
    }
    int32_t sy = sourceRow(y, a.H, a.pad, cf, a.reflect), sx = sourceCol(x, a.W, a.pad, cf, a.reflect);
    uint8_t v = (sy < 0 || sx < 0) ? 0 : data[(((int64_t)idx * a.C + c) * a.H + sy) * a.W + sx];
    out[e] = a.normalize ? normalizePixel(v, a.scale, a.mean[c], a.std[c]) : normalizePixel(v, a.scale, 0.0f, 1.0f);
  }
}

template <class T>
__global__ void gatherLabelsKernel(const T* labels, const int32_t* indices, int32_t* out, int B, int N, DeviceFault* fault) {
  VGG_GRID_LOOP(i, B) {
    int idx = indices[i];
    if (idx < 0 || idx >= N) recordFault(fault, kFaultGatherIndex, idx, i, N);
    out[i] = idx >= 0 && idx < N ? (int32_t)labels[idx] : -1;
  }
}

}  // namespace

void CudaBackend::loadBatch(const Tensor& dataset, const Tensor& indices, const Tensor& out, const BatchParams& p, const Tensor* seedTensor) {
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
  a.cutout = p.cutout;
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
  Context& c = ctx(op);
  loadBatchKernel<<<blocksFor(total), kThreads, 0, c.stream>>>(dataset.as<uint8_t>(), indices.as<int32_t>(), out.as<float>(), a,
                                                                 seedTensor ? seedTensor->as<int32_t>() : nullptr, c.fault);
  checkLaunch(op, "loadBatchKernel");
}

void CudaBackend::gatherLabels(const Tensor& labels, const Tensor& indices, const Tensor& out) {
  const char* op = "gatherLabels";
  int B = (int)indices.numel(), N = (int)labels.numel();
  Context& c = ctx(op);
  if (labels.dtype == DType::u8)
    gatherLabelsKernel<uint8_t><<<blocksFor(B), kThreads, 0, c.stream>>>(labels.as<uint8_t>(), indices.as<int32_t>(), out.as<int32_t>(), B, N, c.fault);
  else
    gatherLabelsKernel<int32_t><<<blocksFor(B), kThreads, 0, c.stream>>>(labels.as<int32_t>(), indices.as<int32_t>(), out.as<int32_t>(), B, N, c.fault);
  checkLaunch(op, "gatherLabelsKernel");
}

}  // namespace vgg

// Elementwise kernels: fill, bias (+ReLU) and its gradient, ReLU, dropout, axpby, casts, layout transposes.
// The activation kernels are templates on the element type: float, or bfloat16 as uint16_t.
#include "core/elementwise.h"
#include "cuda/channel_sums.cuh"
#include "cuda/cuda_backend.h"

namespace vgg {

template <class T>
__global__ void fillKernel(T* p, int64_t n, T v) {
  VGG_GRID_LOOP(i, n) p[i] = v;
}

void launchFill(const char* op, void* p, DType t, int64_t n, float value, cudaStream_t s) {
  if (t == DType::f32) fillKernel<float><<<blocksFor(n), kThreads, 0, s>>>((float*)p, n, value);
  else if (t == DType::bf16) fillKernel<uint16_t><<<blocksFor(n), kThreads, 0, s>>>((uint16_t*)p, n, floatToBf16(value));
  else fillKernel<int32_t><<<blocksFor(n), kThreads, 0, s>>>((int32_t*)p, n, (int32_t)value);
  checkLaunch(op, "fillKernel");
}

std::string kernelImageProblem() {
  cudaFuncAttributes attr;
  cudaError_t e = cudaFuncGetAttributes(&attr, fillKernel<float>);
  if (e == cudaSuccess) return "";
  cudaGetLastError();
  int major = 0, minor = 0;
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0);
  return "our kernels cannot run on this GPU (compute capability " + std::to_string(major) + "." + std::to_string(minor) +
         ", " VGG_CUDA_REASON "; rebuild with VGG_CIFAR_CUDA_ARCHS=" + std::to_string(major * 10 + minor) +
         "): cudaFuncGetAttributes: " + cudaGetErrorString(e);
}

// y[o, c, i] = act(y[o, c, i] + bias[c]). 32-bit index arithmetic where it fits (64-bit division is
// slow on GPUs and this runs after every convolution).
template <class T, class I>
__global__ void biasActKernel(T* y, const float* bias, I n, I channels, I inner, bool relu) {
  for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (I)blockDim.x * gridDim.x) {
    float v = load(y[i]) + bias[(i / inner) % channels];
    y[i] = store<T>(relu ? reluValue(v) : v);
  }
}

void launchBiasAct(const char* op, void* y, DType t, const float* bias, ChannelView v, bool relu, cudaStream_t s) {
  int64_t n = v.outer * v.channels * v.inner;
  if (!bias) {
    if (relu) launchRelu(op, y, y, t, n, s);
    return;
  }
  byType(t, [&](auto tag) {
    using T = decltype(tag);
    if (n < (1ll << 31))
      biasActKernel<T, uint32_t><<<blocksFor(n), kThreads, 0, s>>>((T*)y, bias, (uint32_t)n, (uint32_t)v.channels, (uint32_t)v.inner, relu);
    else
      biasActKernel<T, uint64_t><<<blocksFor(n), kThreads, 0, s>>>((T*)y, bias, (uint64_t)n, (uint64_t)v.channels, (uint64_t)v.inner, relu);
  });
  checkLaunch(op, "biasActKernel");
}

// db[c] = sum over o, i of dy[o, c, i], summed in fp32 whatever dy's type, in a fixed order (deterministic).
// Channels-last data (nhwc, 2-D [N, M]: inner == 1) goes through the coalesced two-level channel sums;
// plain NCHW through one block per channel, whose threads read the contiguous H*W runs.
// outer * inner < 2^31 (checked by the launcher).
template <class T>
struct ChannelValue {
  const T* dy;
  __device__ void init(int) {}
  __device__ void operator()(float* acc, int64_t i, int) const { acc[0] += load(dy[i]); }
};

__global__ void chunkTotalKernel(const float* partial, int chunks, int C, float* db) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c < C) db[c] = (float)chunkSum(partial, chunks, 1, 0, C, c);
}

template <class T>
__global__ void biasGradKernel(const T* dy, float* db, uint32_t outer, uint32_t channels, uint32_t inner) {
  uint32_t c = blockIdx.x, per = outer * inner;
  float acc = 0.0f;
  for (uint32_t j = threadIdx.x; j < per; j += blockDim.x) {
    uint32_t o = j / inner, i = j - o * inner;
    acc += load(dy[((int64_t)o * channels + c) * inner + i]);
  }
  acc = blockSum(acc);
  if (threadIdx.x == 0) db[c] = acc;
}

void launchBiasGrad(const char* op, const void* dy, DType t, float* db, ChannelView v, cudaStream_t s) {
  if (v.outer * v.inner >= (1ll << 31) || v.channels >= (1ll << 31))
    throw RangeErr(std::string(op) + ": bias gradient over more than 2^31 elements per channel is not supported on cuda");
  if (v.inner == 1 && v.outer > 1) {
    RowChunks rc = rowChunks(v.outer, v.channels);
    float* partial = (float*)cuda().scratch(op, (size_t)rc.chunks * v.channels * sizeof(float));
    byType(t, [&](auto tag) {
      using T = decltype(tag);
      launchChannelPartials<1>(v.outer, (int)v.channels, rc, partial, ChannelValue<T>{(const T*)dy}, s);
    });
    chunkTotalKernel<<<(unsigned)((v.channels + kThreads - 1) / kThreads), kThreads, 0, s>>>(partial, rc.chunks, (int)v.channels, db);
    checkLaunch(op, "biasGradChannelsLast");
    return;
  }
  byType(t, [&](auto tag) {
    using T = decltype(tag);
    biasGradKernel<T><<<(unsigned)v.channels, kThreads, 0, s>>>((const T*)dy, db, (uint32_t)v.outer, (uint32_t)v.channels, (uint32_t)v.inner);
  });
  checkLaunch(op, "biasGradKernel");
}

template <class T>
__global__ void reluKernel(const T* x, T* y, int64_t n) {
  VGG_GRID_LOOP(i, n) y[i] = store<T>(reluValue(load(x[i])));
}
void launchRelu(const char* op, const void* x, void* y, DType t, int64_t n, cudaStream_t s) {
  byType(t, [&](auto tag) {
    using T = decltype(tag);
    reluKernel<T><<<blocksFor(n), kThreads, 0, s>>>((const T*)x, (T*)y, n);
  });
  checkLaunch(op, "reluKernel");
}

template <class T>
__global__ void reluBackwardKernel(const T* y, const T* dy, T* dx, int64_t n) {
  VGG_GRID_LOOP(i, n) dx[i] = store<T>(reluGrad(load(y[i]), load(dy[i])));
}

// Dropout's mask and RNG counter follow the logical NCHW index whatever the storage (the CPU's forLogical),
// so both backends drop the same elements. `C`/`HW` > 0 for nhwc storage, where the physical index j
// walks (n, hw, c); 0 for plain, where the two indices coincide.
struct LogicalIndex {
  int64_t C = 0, HW = 0;
  __device__ int64_t operator()(int64_t j) const {
    if (!C) return j;
    int64_t c = j % C, t = j / C;
    return (t / HW * C + c) * HW + t % HW;
  }
};

static LogicalIndex logicalIndex(const Tensor& t) {
  LogicalIndex l;
  if (t.layout == Layout::nhwc) {
    l.C = t.shape[1];
    l.HW = t.shape[2] * t.shape[3];
  }
  return l;
}

template <class T>
__global__ void dropoutKernel(const T* x, uint8_t* mask, T* y, int64_t n, float p, float scale, uint64_t seedArg, const int32_t* seedBits,
                              LogicalIndex logical) {
  const uint64_t seed = seedFrom(seedBits, seedArg);
  VGG_GRID_LOOP(j, n) {
    int64_t i = logical(j);
    uint8_t keep = dropoutKeep(seed, (uint64_t)i, p);
    mask[i] = keep;
    y[j] = store<T>(keep ? load(x[j]) * scale : 0.0f);
  }
}

template <class T>
__global__ void dropoutBackwardKernel(const T* dy, const uint8_t* mask, T* dx, int64_t n, float scale, LogicalIndex logical) {
  VGG_GRID_LOOP(j, n) dx[j] = store<T>(mask[logical(j)] ? load(dy[j]) * scale : 0.0f);
}

__global__ void toBf16Kernel(const float* x, uint16_t* y, int64_t n) { VGG_GRID_LOOP(i, n) y[i] = floatToBf16(x[i]); }
__global__ void fromBf16Kernel(const uint16_t* x, float* y, int64_t n) { VGG_GRID_LOOP(i, n) y[i] = bf16ToFloat(x[i]); }

__global__ void axpbyKernel(const float* x, float* y, int64_t n, float alpha, float beta) {
  // beta == 0 overwrites (NaN/Inf in y do not leak through), as BLAS does.
  VGG_GRID_LOOP(i, n) y[i] = beta == 0.0f ? alpha * x[i] : alpha * x[i] + beta * y[i];
}

// The element at logical NCHW index i, stored plain or nhwc.
__device__ __forceinline__ int64_t storedAt(int64_t i, int64_t C, int64_t HW, bool nhwc) {
  if (!nhwc) return i;
  int64_t hw = i % HW, c = (i / HW) % C, b = i / (HW * C);
  return (b * HW + hw) * C + c;
}

template <class T>
__global__ void transposeKernel(const T* src, T* dst, int64_t N, int64_t C, int64_t HW, bool toNhwc) {
  VGG_GRID_LOOP(i, N * C * HW) dst[storedAt(i, C, HW, toNhwc)] = src[storedAt(i, C, HW, !toNhwc)];
}

void launchTranspose(const char* op, const void* src, void* dst, const std::vector<int64_t>& shape, bool toNhwc, size_t es, cudaStream_t s) {
  int64_t N = shape[0], C = shape[1], HW = shape[2] * shape[3], n = N * C * HW;
  if (es == 4) transposeKernel<uint32_t><<<blocksFor(n), kThreads, 0, s>>>((const uint32_t*)src, (uint32_t*)dst, N, C, HW, toNhwc);
  else if (es == 2) transposeKernel<uint16_t><<<blocksFor(n), kThreads, 0, s>>>((const uint16_t*)src, (uint16_t*)dst, N, C, HW, toNhwc);
  else transposeKernel<uint8_t><<<blocksFor(n), kThreads, 0, s>>>((const uint8_t*)src, (uint8_t*)dst, N, C, HW, toNhwc);
  checkLaunch(op, "transposeKernel");
}

template <class S, class D>
__global__ void convertKernel(const S* src, bool srcNhwc, D* dst, bool dstNhwc, int64_t N, int64_t C, int64_t HW) {
  VGG_GRID_LOOP(i, N * C * HW) dst[storedAt(i, C, HW, dstNhwc)] = store<D>(load(src[storedAt(i, C, HW, srcNhwc)]));
}

void launchConvert(const char* op, const void* src, DType st, bool srcNhwc, void* dst, DType dt, bool dstNhwc,
                   const std::vector<int64_t>& shape, cudaStream_t s) {
  int64_t N = shape[0], C = shape[1], HW = shape[2] * shape[3];
  byType(st, [&](auto stag) {
    byType(dt, [&](auto dtag) {
      using S = decltype(stag);
      using D = decltype(dtag);
      convertKernel<S, D><<<blocksFor(N * C * HW), kThreads, 0, s>>>((const S*)src, srcNhwc, (D*)dst, dstNhwc, N, C, HW);
    });
  });
  checkLaunch(op, "convertKernel");
}

// ---------- backend methods ----------

void CudaBackend::reluForward(const Tensor& x, const Tensor& y) {
  requireActivation("reluForward", {&x, &y});
  launchRelu("reluForward", x.data(), y.data(), x.dtype, x.numel(), ctx("reluForward").stream);
}

void CudaBackend::reluBackward(const Tensor& y, const Tensor& dy, const Tensor& dx) {
  const char* op = "reluBackward";
  requireActivation(op, {&y, &dy, &dx});
  int64_t n = y.numel();
  cudaStream_t s = ctx(op).stream;
  byType(y.dtype, [&](auto tag) {
    using T = decltype(tag);
    reluBackwardKernel<T><<<blocksFor(n), kThreads, 0, s>>>(y.as<T>(), dy.as<T>(), dx.as<T>(), n);
  });
  checkLaunch(op, "reluBackwardKernel");
}

void CudaBackend::dropoutForward(const Tensor& x, const Tensor& mask, const Tensor& y, float p, uint64_t seed, const Tensor* seedTensor) {
  const char* op = "dropoutForward";
  requireActivation(op, {&x, &y});
  int64_t n = x.numel();
  float scale = dropoutScale(p);
  cudaStream_t s = ctx(op).stream;
  byType(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    dropoutKernel<T><<<blocksFor(n), kThreads, 0, s>>>(x.as<T>(), mask.as<uint8_t>(), y.as<T>(), n, p, scale, seed,
                                                     seedTensor ? seedTensor->as<int32_t>() : nullptr, logicalIndex(x));
  });
  checkLaunch(op, "dropoutKernel");
}

void CudaBackend::dropoutBackward(const Tensor& dy, const Tensor& mask, const Tensor& dx, float p) {
  const char* op = "dropoutBackward";
  requireActivation(op, {&dy, &dx});
  int64_t n = dy.numel();
  float scale = dropoutScale(p);
  cudaStream_t s = ctx(op).stream;
  byType(dy.dtype, [&](auto tag) {
    using T = decltype(tag);
    dropoutBackwardKernel<T><<<blocksFor(n), kThreads, 0, s>>>(dy.as<T>(), mask.as<uint8_t>(), dx.as<T>(), n, scale, logicalIndex(dy));
  });
  checkLaunch(op, "dropoutBackwardKernel");
}

void CudaBackend::axpby(const Tensor& x, const Tensor& y, float alpha, float beta) {
  requirePlainF32("axpby", {&x, &y});
  int64_t n = x.numel();
  axpbyKernel<<<blocksFor(n), kThreads, 0, ctx("axpby").stream>>>(x.as<float>(), y.as<float>(), n, alpha, beta);
  checkLaunch("axpby", "axpbyKernel");
}

void CudaBackend::cast(const Tensor& src, const Tensor& dst) {
  const char* op = "cast";
  int64_t n = src.numel();  // plain or nhwc: no padding lanes on this backend
  cudaStream_t s = ctx(op).stream;
  if (src.dtype == DType::f32) toBf16Kernel<<<blocksFor(n), kThreads, 0, s>>>(src.as<float>(), dst.as<uint16_t>(), n);
  else fromBf16Kernel<<<blocksFor(n), kThreads, 0, s>>>(src.as<uint16_t>(), dst.as<float>(), n);
  checkLaunch(op, src.dtype == DType::f32 ? "toBf16Kernel" : "fromBf16Kernel");
}

}  // namespace vgg

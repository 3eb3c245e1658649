// Elementwise kernels: fill, bias (+ReLU) and its gradient, ReLU, dropout, axpby, layout transposes.
#include "core/elementwise.h"
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace vgg {

template <class T>
__global__ void fillKernel(T* p, int64_t n, T v) {
  VGG_GRID_LOOP(i, n) p[i] = v;
}

void launchFill(const char* op, void* p, DType t, int64_t n, float value, cudaStream_t s) {
  if (t == DType::f32) fillKernel<float><<<blocksFor(n), kThreads, 0, s>>>((float*)p, n, value);
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
template <class I>
__global__ void biasActKernel(float* y, const float* bias, I n, I channels, I inner, bool relu) {
  for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (I)blockDim.x * gridDim.x) {
    float v = y[i] + bias[(i / inner) % channels];
    y[i] = relu ? reluValue(v) : v;
  }
}

void launchBiasAct(const char* op, float* y, const float* bias, int64_t outer, int64_t channels, int64_t inner, bool relu, cudaStream_t s) {
  int64_t n = outer * channels * inner;
  if (!bias) {
    if (relu) launchRelu(op, y, y, n, s);
    return;
  }
  if (n < (1ll << 31))
    biasActKernel<uint32_t><<<blocksFor(n), kThreads, 0, s>>>(y, bias, (uint32_t)n, (uint32_t)channels, (uint32_t)inner, relu);
  else
    biasActKernel<uint64_t><<<blocksFor(n), kThreads, 0, s>>>(y, bias, (uint64_t)n, (uint64_t)channels, (uint64_t)inner, relu);
  checkLaunch(op, "biasActKernel");
}

// db[c] = sum over o, i of dy[o, c, i]: one block per channel, a fixed reduction order (deterministic).
// outer * inner < 2^31 (checked by the launcher).
__global__ void biasGradKernel(const float* dy, float* db, uint32_t outer, uint32_t channels, uint32_t inner) {
  uint32_t c = blockIdx.x, per = outer * inner;
  float acc = 0.0f;
  for (uint32_t j = threadIdx.x; j < per; j += blockDim.x) {
    uint32_t o = j / inner, i = j - o * inner;
    acc += dy[((int64_t)o * channels + c) * inner + i];
  }
  acc = blockSum(acc);
  if (threadIdx.x == 0) db[c] = acc;
}

void launchBiasGrad(const char* op, const float* dy, float* db, int64_t outer, int64_t channels, int64_t inner, cudaStream_t s) {
  if (outer * inner >= (1ll << 31) || channels >= (1ll << 31))
    throw RangeErr(std::string(op) + ": bias gradient over more than 2^31 elements per channel is not supported on cuda");
  biasGradKernel<<<(unsigned)channels, kThreads, 0, s>>>(dy, db, (uint32_t)outer, (uint32_t)channels, (uint32_t)inner);
  checkLaunch(op, "biasGradKernel");
}

__global__ void reluKernel(const float* x, float* y, int64_t n) {
  VGG_GRID_LOOP(i, n) y[i] = reluValue(x[i]);
}
void launchRelu(const char* op, const float* x, float* y, int64_t n, cudaStream_t s) {
  reluKernel<<<blocksFor(n), kThreads, 0, s>>>(x, y, n);
  checkLaunch(op, "reluKernel");
}

__global__ void reluBackwardKernel(const float* y, const float* dy, float* dx, int64_t n) {
  VGG_GRID_LOOP(i, n) dx[i] = reluGrad(y[i], dy[i]);
}

// The mask draw is the CPU's (core/elementwise.h: the logical index is the RNG counter), so both
// backends drop the same elements.
__global__ void dropoutKernel(const float* x, uint8_t* mask, float* y, int64_t n, float p, float scale, uint64_t seed) {
  VGG_GRID_LOOP(i, n) {
    uint8_t keep = dropoutKeep(seed, (uint64_t)i, p);
    mask[i] = keep;
    y[i] = keep ? x[i] * scale : 0.0f;
  }
}

__global__ void dropoutBackwardKernel(const float* dy, const uint8_t* mask, float* dx, int64_t n, float scale) {
  VGG_GRID_LOOP(i, n) dx[i] = mask[i] ? dy[i] * scale : 0.0f;
}

__global__ void toBf16Kernel(const float* x, uint16_t* y, int64_t n) { VGG_GRID_LOOP(i, n) y[i] = floatToBf16(x[i]); }
__global__ void fromBf16Kernel(const uint16_t* x, float* y, int64_t n) { VGG_GRID_LOOP(i, n) y[i] = bf16ToFloat(x[i]); }

__global__ void axpbyKernel(const float* x, float* y, int64_t n, float alpha, float beta) {
  // beta == 0 overwrites (NaN/Inf in y do not leak through), as BLAS does.
  VGG_GRID_LOOP(i, n) y[i] = beta == 0.0f ? alpha * x[i] : alpha * x[i] + beta * y[i];
}

template <class T>
__global__ void transposeKernel(const T* src, T* dst, int64_t N, int64_t C, int64_t HW, bool toNhwc) {
  int64_t n = N * C * HW;
  VGG_GRID_LOOP(i, n) {
    // i indexes NCHW order
    int64_t hw = i % HW, c = (i / HW) % C, b = i / (HW * C);
    int64_t j = (b * HW + hw) * C + c;  // the NHWC index
    if (toNhwc) dst[j] = src[i];
    else dst[i] = src[j];
  }
}

void launchTranspose(const char* op, const void* src, void* dst, const std::vector<int64_t>& shape, bool toNhwc, size_t es, cudaStream_t s) {
  int64_t N = shape[0], C = shape[1], HW = shape[2] * shape[3], n = N * C * HW;
  if (es == 4) transposeKernel<uint32_t><<<blocksFor(n), kThreads, 0, s>>>((const uint32_t*)src, (uint32_t*)dst, N, C, HW, toNhwc);
  else if (es == 2) transposeKernel<uint16_t><<<blocksFor(n), kThreads, 0, s>>>((const uint16_t*)src, (uint16_t*)dst, N, C, HW, toNhwc);
  else transposeKernel<uint8_t><<<blocksFor(n), kThreads, 0, s>>>((const uint8_t*)src, (uint8_t*)dst, N, C, HW, toNhwc);
  checkLaunch(op, "transposeKernel");
}

// ---------- backend methods ----------

void CudaBackend::reluForward(const Tensor& x, const Tensor& y) {
  requirePlainF32("reluForward", {&x, &y});
  launchRelu("reluForward", x.as<float>(), y.as<float>(), x.numel(), ctx("reluForward").stream);
}

void CudaBackend::reluBackward(const Tensor& y, const Tensor& dy, const Tensor& dx) {
  requirePlainF32("reluBackward", {&y, &dy, &dx});
  int64_t n = y.numel();
  reluBackwardKernel<<<blocksFor(n), kThreads, 0, ctx("reluBackward").stream>>>(y.as<float>(), dy.as<float>(), dx.as<float>(), n);
  checkLaunch("reluBackward", "reluBackwardKernel");
}

void CudaBackend::dropoutForward(const Tensor& x, const Tensor& mask, const Tensor& y, float p, uint64_t seed) {
  requirePlainF32("dropoutForward", {&x, &y});
  int64_t n = x.numel();
  float scale = dropoutScale(p);
  dropoutKernel<<<blocksFor(n), kThreads, 0, ctx("dropoutForward").stream>>>(x.as<float>(), mask.as<uint8_t>(), y.as<float>(), n, p, scale, seed);
  checkLaunch("dropoutForward", "dropoutKernel");
}

void CudaBackend::dropoutBackward(const Tensor& dy, const Tensor& mask, const Tensor& dx, float p) {
  requirePlainF32("dropoutBackward", {&dy, &dx});
  int64_t n = dy.numel();
  float scale = dropoutScale(p);
  dropoutBackwardKernel<<<blocksFor(n), kThreads, 0, ctx("dropoutBackward").stream>>>(dy.as<float>(), mask.as<uint8_t>(), dx.as<float>(), n, scale);
  checkLaunch("dropoutBackward", "dropoutBackwardKernel");
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

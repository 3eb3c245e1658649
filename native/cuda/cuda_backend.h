// The CUDA backend: cuDNN (convolution, pooling, batchnorm) and cuBLAS (linear), both loaded at run time,
// plus our own kernels for everything elementwise. One stream, one cuDNN and one cuBLAS handle, created on
// first use; every op is asynchronous on that stream except the host transfers. Methods are defined one op
// family per file (conv.cc, pool.cc, ... for library calls; *.cu for kernels).
#pragma once
#include <cuda_runtime_api.h>
#include <atomic>
#include <initializer_list>
#include <string>
#include <vector>
#include <mutex>
#include "core/backend.h"
#include "core/errors.h"
#include "cuda/fault.h"
#include "cuda/loader.h"

namespace vgg {

class CudaBackend final : public Backend {
 public:
  CudaBackend();
  Device device() const override { return Device::cuda; }
  BackendStatus status() override;

  void* allocate(size_t bytes) override;
  void release(void* ptr, size_t bytes) override;
  size_t liveBytes() const override { return live_.load(); }
  // fp32 in NCHW (cuDNN's fastest fp32 kernels here are NCHW); bf16 in NHWC, which tensor cores need.
  Layout preferredLayout(const std::vector<int64_t>& shape, DType dtype) const override {
    return shape.size() == 4 && dtype == DType::bf16 ? Layout::nhwc : Layout::plain;
  }
  void upload(const Tensor& dst, const void* host) override;
  void download(const Tensor& src, void* host) override;
  void copy(const Tensor& src, const Tensor& dst) override;
  void fill(const Tensor& t, float value) override;

  VGG_BACKEND_OPS(, override)

  // The stream and library handles, created on first use (throws BackendErr naming `op` on failure).
  struct Context {
    cudaStream_t stream = nullptr;
    cu::cudnnHandle_t dnn = nullptr;
    cu::cublasHandle_t blas = nullptr;
    DeviceFault* fault = nullptr;  // device memory, zero when no fault is pending (fault.h)
  };
  Context& ctx(const char* op);
  const cu::Cudnn& dnn() const { return cudaLibraries().cudnn; }
  const cu::Cublas& blas() const { return cudaLibraries().cublas; }
  // A device scratch buffer of at least `bytes`, owned by the backend and reused by every op (it grows
  // while algorithms are being found, then stays put). Valid until the next call.
  void* workspace(const char* op, size_t bytes);
  // TF32 tensor-core math for fp32 convolutions and GEMMs: off by default (fp32 parity with the CPU);
  // VGG_CIFAR_TF32=1 turns it on at start-up, native.setTf32() at any time (before or after init).
  bool tf32() const { return tf32_; }
  void setTf32(bool on) override;

 private:
  std::atomic<size_t> live_{0};
  std::mutex initMu_;
  std::atomic<bool> initDone_{false};  // read without the lock on every op
  Context ctx_;
  std::atomic<bool> tf32_{false};
  void* ws_ = nullptr;
  size_t wsBytes_ = 0;
  std::mutex statusMu_;
  bool statusDone_ = false;
  BackendStatus probeStatus();  // what status() caches: driver, device, libraries
  BackendStatus status_;
};

CudaBackend& cuda();

// Status checks: each turns a failure into BackendErr(op, call, message).
void checkCuda(cudaError_t e, const char* op, const char* call);
void checkCudnn(cu::cudnnStatus_t s, const char* op, const char* call);
void checkCublas(cu::cublasStatus_t s, const char* op, const char* call);
// After a kernel launch: launch errors (bad configuration, no kernel image for this GPU).
void checkLaunch(const char* op, const char* kernel);

#define VGG_CUDNN_CALL(op, fn, ...) ::vgg::checkCudnn(::vgg::cuda().dnn().fn(__VA_ARGS__), op, #fn)
#define VGG_CUBLAS_CALL(op, fn, ...) ::vgg::checkCublas(::vgg::cuda().blas().fn(__VA_ARGS__), op, #fn)

// Rejects tensors this backend does not handle yet (non-plain layouts, non-fp32 data).
void requirePlainF32(const char* op, std::initializer_list<const Tensor*> ts);

// Kernel launchers used by the library-backed op files (defined in elementwise.cu).
void launchBiasAct(const char* op, float* y, const float* bias, int64_t outer, int64_t channels, int64_t inner, bool relu, cudaStream_t s);
void launchBiasGrad(const char* op, const float* dy, float* db, int64_t outer, int64_t channels, int64_t inner, cudaStream_t s);
void launchRelu(const char* op, const float* x, float* y, int64_t n, cudaStream_t s);
void launchFill(const char* op, void* p, DType t, int64_t n, float value, cudaStream_t s);
// NCHW <-> NHWC (for copies between layouts); elementSize 1, 2 or 4.
void launchTranspose(const char* op, const void* src, void* dst, const std::vector<int64_t>& shape, bool toNhwc, size_t elementSize,
                     cudaStream_t s);
// Empty when our kernels can run on device 0, else why not (e.g. no kernel image for its architecture).
std::string kernelImageProblem();

}  // namespace vgg

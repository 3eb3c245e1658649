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
#include <memory>
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
  // A second such buffer for an op's own staging (bf16 filter gradients, layout copies) while cuDNN has
  // the workspace: same rules. `scratchSlices` carves it into 256-byte aligned pieces (nullptr for 0 bytes).
  void* scratch(const char* op, size_t bytes);
  std::vector<void*> scratchSlices(const char* op, std::initializer_list<size_t> bytes);
  // TF32 tensor-core math for fp32 convolutions and GEMMs: off by default (fp32 parity with the CPU);
  // VGG_CIFAR_TF32=1 turns it on at start-up, native.setTf32() at any time (before or after init).
  bool tf32() const { return tf32_; }
  void setTf32(bool on) override;

  // CUDA graphs of the stream (graph.cc, core/capture.h).
  void graphCaptureBegin() override;
  std::unique_ptr<DeviceGraph> graphCaptureEnd() override;
  void graphCaptureAbort() override;
  void graphsAlive(int delta) { graphs_ += delta; }

 private:
  std::atomic<size_t> live_{0};
  std::mutex initMu_;
  std::atomic<bool> initDone_{false};  // read without the lock on every op
  Context ctx_;
  std::atomic<bool> tf32_{false};
  std::atomic<int> graphs_{0};
  // Owned through shared_ptr: a graph captured while one was current keeps it after it is replaced.
  std::shared_ptr<void> ws_, scratch_;
  size_t wsBytes_ = 0;
  size_t scratchBytes_ = 0;
  void* grow(const char* op, std::shared_ptr<void>& buf, size_t& have, size_t bytes, const char* what);
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

// Device memory owned by a shared_ptr that cudaFree's it (the backend's own buffers, which a captured graph
// may share: core/capture.h); `call` names the allocation in the error (e.g. "cudaMalloc (KRSC weights)").
std::shared_ptr<void> deviceBuffer(const char* op, size_t bytes, const char* call);
// The same ownership of memory allocated elsewhere.
std::shared_ptr<void> ownDevicePtr(void* p);

// Rejects tensors this backend does not handle (non-plain layouts, non-fp32 data): the float32-only ops.
void requirePlainF32(const char* op, std::initializer_list<const Tensor*> ts);
// Activation operands of the bf16-capable ops: float32 or bfloat16, plain or nhwc.
void requireActivation(const char* op, std::initializer_list<const Tensor*> ts);

// cuDNN's data type for a float32 / bfloat16 tensor.
cu::cudnnDataType_t dnnType(DType t);
// A 4-D tensor descriptor over logical NCHW dims, stored NHWC when `nhwc` (cuDNN's format argument).
void setTensor4d(const char* op, cu::cudnnTensorDescriptor_t d, const std::vector<int64_t>& shape, DType t, bool nhwc);
// What a cache of descriptors or algorithms must tell apart: shape, dtype, layout.
std::string tensorKey(const Tensor& t);

// A tensor seen as [outer, channels, inner] for per-channel kernels: plain NCHW is [N, C, H*W], nhwc is
// [N*H*W, C, 1], a 2-D [N, M] matrix is [N, M, 1].
struct ChannelView { int64_t outer, channels, inner; };
inline ChannelView channelView(const Tensor& t) {
  if (t.dim() != 4) return {t.shape[0], t.numel() / t.shape[0], 1};
  int64_t hw = t.shape[2] * t.shape[3];
  return t.layout == Layout::nhwc ? ChannelView{t.shape[0] * hw, t.shape[1], 1} : ChannelView{t.shape[0], t.shape[1], hw};
}

// Kernel launchers used by the library-backed op files (defined in elementwise.cu). Element type `t` is
// float32 or bfloat16 (bf16 math in fp32, rounded once to nearest even on store); biases and db are fp32.
void launchBiasAct(const char* op, void* y, DType t, const float* bias, ChannelView v, bool relu, cudaStream_t s);
void launchBiasGrad(const char* op, const void* dy, DType t, float* db, ChannelView v, cudaStream_t s);
void launchRelu(const char* op, const void* x, void* y, DType t, int64_t n, cudaStream_t s);
void launchFill(const char* op, void* p, DType t, int64_t n, float value, cudaStream_t s);
// BatchNorm over nhwc activations (batchnorm.cu); reluY as in Backend::batchNorm2dBackward.
void launchBatchNormNhwcForward(const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& runningMean,
                                const Tensor& runningVar, const Tensor& y, const Tensor& saveMean, const Tensor& saveInvStd,
                                const BatchNormParams& p, cudaStream_t s);
void launchBatchNormNhwcBackward(const char* op, const Tensor& x, const Tensor& dy, const Tensor* reluY, const Tensor& gamma,
                                 const Tensor& saveMean, const Tensor& saveInvStd, const Tensor& dx, const Tensor& dgamma,
                                 const Tensor& dbeta, cudaStream_t s);
// Max pooling over nhwc activations (pool.cu).
void launchMaxPoolNhwcForward(const char* op, const Tensor& x, const Tensor& y, const PoolParams& p, cudaStream_t s);
void launchMaxPoolNhwcBackward(const char* op, const Tensor& dy, const Tensor& x, const Tensor& dx, const PoolParams& p, cudaStream_t s);
// A choice among `values` from the environment variable `var` (env_choice.cc): unset or empty picks values[0];
// another value not among them leaves index 0 and `problem` saying which values are allowed.
struct EnvChoice {
  size_t index = 0;
  std::string problem;
};
EnvChoice readEnvChoice(const char* var, std::initializer_list<const char*> values);
// The choice as the enum whose values are in the order of `values`; throws RangeErr with the problem, if any.
template <class E>
E chosen(const EnvChoice& c) {
  if (!c.problem.empty()) throw RangeErr(c.problem);
  return static_cast<E>(c.index);
}
// What runs NHWC BatchNorm and max pooling (nhwc_path.cc), chosen once per process by VGG_CIFAR_CUDA_NHWC:
//   auto (unset): per shape, the fastest of the candidates below on this GPU whose results agree with our
//                 kernels' (tune.h, nhwc_tune.cc);
//   ours:         our kernels (above);
//   cudnn:        cuDNN's legacy calls, BatchNorm and pooling;
//   cudnn-ex:     BatchNorm through cudnnBatchNormalization*Ex (SPATIAL_PERSISTENT, fused ReLU; batchnorm_ex.cc),
//                 pooling through the legacy calls as `cudnn` (cuDNN has no *Ex pooling).
// The fixed ones let a GPU run compare the candidates (bench/gpu-elementwise.ts --paths) and pin one.
enum class NhwcPath { tuned, ours, cudnn, cudnnEx };  // in the order of readEnvChoice's values
// Throws RangeErr naming the allowed values when the variable holds another (status() reports it too).
NhwcPath nhwcPath();
// Empty when the variable is valid, else the error nhwcPath() throws.
std::string nhwcPathProblem();
// For status().details.nhwc: the path and, for cudnn-ex and auto, whether the loaded cuDNN has the *Ex calls.
std::string nhwcPathDetail();

// cudnn-ex BatchNorm (batchnorm_ex.cc): training forward and backward of nhwc x. Each returns false where
// cuDNN cannot take the call (the *Ex functions are missing, cuDNN refused the shape or dtype, or the
// backward has no reserve space from a matching *Ex forward); the caller then runs our kernels.
bool batchNormExForward(const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& runningMean,
                        const Tensor& runningVar, const Tensor& y, const Tensor& saveMean, const Tensor& saveInvStd,
                        const BatchNormParams& p);
bool batchNormExBackward(const char* op, const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& saveMean,
                         const Tensor& saveInvStd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, float eps,
                         const Tensor* reluY);
// For status().details.nhwcEx: which shapes ran through the *Ex calls and which cuDNN refused (and why).
std::string batchNormExSummary();
// What runs a convolution forward with a bias (conv_fused.cc), chosen once per process by VGG_CIFAR_CUDA_CONV so
// that a GPU run can compare the candidates (bench/gpu-ops.ts --conv legacy,fused):
//   legacy (unset): cudnnConvolutionForward (algorithm from Find*Ex), then our bias (+ReLU) kernel;
//   fused:          cuDNN's graph API: convolution -> add bias -> ReLU as one runtime-fused execution plan,
//                   the legacy path for each plan cuDNN refuses.
enum class ConvPath { legacy, fused };  // in the order of readEnvChoice's values
// As nhwcPath(), nhwcPathProblem(), nhwcPathDetail().
ConvPath convPath();
std::string convPathProblem();
std::string convPathDetail();
// One fused forward: x, w and y in the call's format (nhwc: NHWC activations and KRSC filters, else NCHW / OIHW),
// dt their dtype, bias fp32 [C]. Returns false where the fused path does not take the call (the graph
// functions are missing, cuDNN refused this plan now or before, a pointer is not 16-byte aligned): nothing has
// been written then, and the caller runs the legacy path.
struct FusedConv {
  const std::vector<int64_t>&x, &w, &y;
  const ConvParams& p;
  DType dt;
  bool nhwc;
  const void* xData;
  const void* wData;
  const float* bias;
  void* yData;
  bool relu;
};
bool fusedConvForward(const char* op, const FusedConv& c);
// The workspace a convolution may use (VGG_CIFAR_CUDNN_WORKSPACE_MB, default 512 MiB): what Find*Ex is offered
// and the most a fused plan may ask for.
size_t convWorkspaceLimit();
// For status().details.convFused: which plans ran fused (and on which engine) and which cuDNN refused (and why).
std::string fusedConvSummary();
// Element-wise copy of a 4-D tensor between layouts (plain / nhwc) and float dtypes (float32 / bfloat16).
void launchConvert(const char* op, const void* src, DType st, bool srcNhwc, void* dst, DType dt, bool dstNhwc,
                   const std::vector<int64_t>& shape, cudaStream_t s);
// NCHW <-> NHWC (for copies between layouts); elementSize 1, 2 or 4.
void launchTranspose(const char* op, const void* src, void* dst, const std::vector<int64_t>& shape, bool toNhwc, size_t elementSize,
                     cudaStream_t s);
// cuDNN's legacy pooling and batch normalization on bfloat16 or nhwc data: NVIDIA documents these, but
// which builds and GPUs take which combination is not ours to check here. Such a call that cuDNN refuses
// (a BAD_PARAM or NOT_SUPPORTED status, before it runs anything) is retried with every operand converted
// to fp32 NCHW in scratch (exact for bf16; the output is rounded to bf16 once), and `*viaF32` remembers
// it for the plan. A genuine error fails the fp32 call too and is reported as usual. fp32 NCHW calls
// run once. call(bool f32, const void* const* in, void* out) returns cuDNN's status; `in` and `out` are
// the operands' data in their own format, or in fp32 NCHW when f32. At most 4 inputs.
bool cudnnRefused(cu::cudnnStatus_t s);
// cuDNN's name for a status and its number, for messages: "CUDNN_STATUS_NOT_SUPPORTED, status 3000".
std::string cudnnStatusText(cu::cudnnStatus_t s);
// Reports on stderr, when VGG_CIFAR_CUDA_LOG=1, that `call` refused `out`'s dtype/layout (status s) and the
// plan now goes through fp32 NCHW copies: correct but slower, so the GPU checks can tell.
void noteViaF32(const char* op, const char* call, cu::cudnnStatus_t s, const Tensor& out);
// Any other report of that kind (VGG_CIFAR_CUDA_LOG=1), e.g. a tuner's decision: "vgg-cifar cuda: <op>: <what>".
void noteCuda(const char* op, const std::string& what);
// The same report for any fallback: what failed (`why`) and what the plan runs through now (`now`).
void noteFallback(const char* op, const std::string& why, const char* now);
// For a candidate that needs optional cuDNN functions: true when `missing` (those the loaded cuDNN lacks) is
// empty, else false, noting the fallback (`now`) once per `noted`.
bool optionalCallsLoaded(const char* op, const std::string& missing, std::once_flag& noted, const char* now);
template <class Call>
void cudnnOrViaF32(const char* op, const char* name, bool* viaF32, std::initializer_list<const Tensor*> in, const Tensor& out, Call&& call) {
  const Tensor* ins[4];
  const void* ptrs[4];
  size_t n = 0;
  if (in.size() > 4) throw BackendErr(op, name, "cudnnOrViaF32 takes at most 4 inputs");
  for (const Tensor* t : in) {
    ins[n] = t;
    ptrs[n++] = t->data();
  }
  bool plainF32 = out.dtype == DType::f32 && out.layout == Layout::plain;
  if (!*viaF32) {
    cu::cudnnStatus_t s = call(false, ptrs, out.data());
    if (plainF32 || !cudnnRefused(s)) return checkCudnn(s, op, name);
    noteViaF32(op, name, s, out);
    *viaF32 = true;
  }
  auto f32Bytes = [](const Tensor& t) { return ((size_t)t.numel() * sizeof(float) + 255) / 256 * 256; };
  size_t total = f32Bytes(out);
  for (size_t i = 0; i < n; i++) total += f32Bytes(*ins[i]);
  char* at = static_cast<char*>(cuda().scratch(op, total));
  cudaStream_t st = cuda().ctx(op).stream;
  for (size_t i = 0; i < n; i++) {
    launchConvert(op, ins[i]->data(), ins[i]->dtype, ins[i]->layout == Layout::nhwc, at, DType::f32, false, ins[i]->shape, st);
    ptrs[i] = at;
    at += f32Bytes(*ins[i]);
  }
  checkCudnn(call(true, ptrs, at), op, name);
  launchConvert(op, at, DType::f32, false, out.data(), out.dtype, out.layout == Layout::nhwc, out.shape, st);
}

// For a candidate's status summary (details.nhwcEx, details.convFused): "<ranLabel>: key, key. Refused
// (<fallback> ran): key (why); key (why)" over a map of plans that have a `refused` string; ranText(key, plan)
// names a plan that ran ("" for one that has not run yet).
template <class Plans, class RanText>
std::string planLists(const Plans& plans, const char* ranLabel, const char* fallback, RanText&& ranText) {
  std::string ran, refused;
  for (const auto& [key, P] : plans) {
    if (!P->refused.empty()) refused += (refused.empty() ? "" : "; ") + key + " (" + P->refused + ")";
    else if (std::string r = ranText(key, *P); !r.empty()) ran += (ran.empty() ? "" : ", ") + r;
  }
  return std::string(ranLabel) + ": " + (ran.empty() ? std::string("none yet") : ran) + ". Refused (" + fallback + " ran): " +
         (refused.empty() ? std::string("none") : refused);
}

// Empty when our kernels can run on device 0, else why not (e.g. no kernel image for its architecture).
std::string kernelImageProblem();

}  // namespace vgg

// The CUDA backend's status, context, memory and host transfers.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include "core/capture.h"
#include "cuda/cuda_backend.h"
#include "cuda/tune.h"

namespace vgg {

CudaBackend::CudaBackend() {
  const char* t = std::getenv("VGG_CIFAR_TF32");
  tf32_ = t && std::strcmp(t, "1") == 0;
}

CudaBackend& cuda() {
  static CudaBackend* b = new CudaBackend();  // never destroyed: tensors may outlive static destructors
  return *b;
}
Backend* cudaBackend() { return &cuda(); }

// ---------- status checks ----------

void checkCuda(cudaError_t e, const char* op, const char* call) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clear a sticky launch error so the next op reports its own
  throw BackendErr(op, call, std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e));
}

void checkCudnn(cu::cudnnStatus_t s, const char* op, const char* call) {
  if (s == cu::CUDNN_STATUS_SUCCESS) return;
  const auto& d = cudaLibraries().cudnn;
  std::string msg = d.cudnnGetErrorString ? d.cudnnGetErrorString(s) : "cuDNN error";
  msg += " (status " + std::to_string((int)s) + ")";
  if (d.cudnnGetLastErrorString) {
    char buf[512] = {0};
    d.cudnnGetLastErrorString(buf, sizeof buf);
    if (buf[0]) msg += std::string(": ") + buf;
  }
  throw BackendErr(op, call, msg);
}

void checkCublas(cu::cublasStatus_t s, const char* op, const char* call) {
  if (s == cu::CUBLAS_STATUS_SUCCESS) return;
  const auto& b = cudaLibraries().cublas;
  std::string msg = b.cublasGetStatusString ? b.cublasGetStatusString(s) : "cuBLAS error";
  throw BackendErr(op, call, msg + " (status " + std::to_string((int)s) + ")");
}

void checkLaunch(const char* op, const char* kernel) { checkCuda(cudaGetLastError(), op, kernel); }

void requirePlainF32(const char* op, std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts) {
    if (!t) continue;
    if (t->layout != Layout::plain)
      throw RangeErr(std::string(op) + ": the cuda backend takes plain (NCHW) tensors here, got " + t->describe());
    if (t->dtype != DType::f32) throw RangeErr(std::string(op) + ": the cuda backend takes float32 here, got " + t->describe());
  }
}

void requireActivation(const char* op, std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts) {
    if (!t) continue;
    if (t->layout != Layout::plain && t->layout != Layout::nhwc)
      throw RangeErr(std::string(op) + ": the cuda backend takes plain or nhwc tensors, got " + t->describe());
    if (t->dtype != DType::f32 && t->dtype != DType::bf16)
      throw RangeErr(std::string(op) + ": the cuda backend takes float32 or bfloat16 here, got " + t->describe());
  }
}

bool cudnnRefused(cu::cudnnStatus_t s) {
  int category = (int)s / 1000 * 1000;  // cuDNN 9's CUDNN_STATUS_CATEGORY: sub-codes such as NOT_SUPPORTED_DATA_TYPE
  return category == cu::CUDNN_STATUS_BAD_PARAM || category == cu::CUDNN_STATUS_NOT_SUPPORTED;
}

std::string cudnnStatusText(cu::cudnnStatus_t s) {
  const auto& d = cudaLibraries().cudnn;
  return std::string(d.cudnnGetErrorString ? d.cudnnGetErrorString(s) : "cuDNN error") + ", status " + std::to_string((int)s);
}

static bool cudaLog() {
  static const bool log = [] {
    const char* v = std::getenv("VGG_CIFAR_CUDA_LOG");
    return v && std::strcmp(v, "1") == 0;
  }();
  return log;
}

void noteViaF32(const char* op, const char* call, cu::cudnnStatus_t s, const Tensor& out) {
  if (!cudaLog()) return;
  const auto& d = cudaLibraries().cudnn;
  std::fprintf(stderr, "vgg-cifar cuda: %s: %s refused %s (%s, status %d); this plan now runs through fp32 NCHW copies\n", op, call,
               out.describe().c_str(), d.cudnnGetErrorString ? d.cudnnGetErrorString(s) : "cuDNN error", (int)s);
}

void noteCuda(const char* op, const std::string& what) {
  if (cudaLog()) std::fprintf(stderr, "vgg-cifar cuda: %s: %s\n", op, what.c_str());
}

void noteFallback(const char* op, const std::string& why, const char* now) {
  if (cudaLog()) std::fprintf(stderr, "vgg-cifar cuda: %s: %s; this plan now runs in %s\n", op, why.c_str(), now);
}

bool optionalCallsLoaded(const char* op, const std::string& missing, std::once_flag& noted, const char* now) {
  if (missing.empty()) return true;
  std::call_once(noted, [&] { noteFallback(op, "the loaded cuDNN lacks " + missing, now); });
  return false;
}

cu::cudnnDataType_t dnnType(DType t) { return t == DType::bf16 ? cu::CUDNN_DATA_BFLOAT16 : cu::CUDNN_DATA_FLOAT; }

void setTensor4d(const char* op, cu::cudnnTensorDescriptor_t d, const std::vector<int64_t>& s, DType t, bool nhwc) {
  VGG_CUDNN_CALL(op, cudnnSetTensor4dDescriptor, d, nhwc ? cu::CUDNN_TENSOR_NHWC : cu::CUDNN_TENSOR_NCHW, dnnType(t), (int)s[0], (int)s[1],
                 (int)s[2], (int)s[3]);
}

std::string tensorKey(const Tensor& t) { return std::string(dtypeName(t.dtype)) + shapeString(t.shape) + layoutName(t.layout); }

// ---------- status ----------

static std::string versionString(int v) {  // CUDA's 1000*major + 10*minor
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
}
static std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); i++) s += (i ? sep : "") + v[i];
  return s;
}

BackendStatus CudaBackend::status() {
  std::lock_guard<std::mutex> lock(statusMu_);
  if (!statusDone_) {
    status_ = probeStatus();
    statusDone_ = true;
  }
  BackendStatus s = status_;
  s.details["tf32"] = tf32_ ? "on" : "off";  // this, nhwcEx and convFused are what change after the probe
  if (nhwcPathProblem().empty() && nhwcPath() == NhwcPath::cudnnEx) s.details["nhwcEx"] = batchNormExSummary();
  if (nhwcPathProblem().empty() && nhwcPath() == NhwcPath::tuned) s.details["nhwcTuned"] = nhwcTuneSummary();
  if (convPathProblem().empty() && convPath() == ConvPath::fused) s.details["convFused"] = fusedConvSummary();
  return s;
}

BackendStatus CudaBackend::probeStatus() {
  BackendStatus s;
  s.compiled = true;
  std::vector<std::string> missing;
  int rt = 0, drv = 0, count = 0;
  cudaRuntimeGetVersion(&rt);
  cudaDriverGetVersion(&drv);  // 0 when no driver is installed
  s.details["runtime"] = versionString(rt) + " (static)";
  s.details["driver"] = drv ? versionString(drv) : "none";
  s.details["build"] = VGG_CUDA_REASON;
#ifdef VGG_CUDA_EMU
  s.details["emulator"] = "yes";  // native/emu: tests use small shapes, benchmarks refuse it
#endif
  cudaError_t e = cudaGetDeviceCount(&count);
  std::string call = std::string("cudaGetDeviceCount: ") + (e == cudaSuccess ? "" : cudaGetErrorName(e) + std::string(", ") + cudaGetErrorString(e));
  bool deviceOk = false;
  std::string deviceText;
  if (e == cudaErrorInsufficientDriver && drv == 0) missing.push_back("no NVIDIA driver (" + call + ")");
  else if (e == cudaErrorInsufficientDriver)
    missing.push_back("the NVIDIA driver supports CUDA " + versionString(drv) + " but this build needs " + versionString(rt) + " (" + call + ")");
  else if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) missing.push_back("no CUDA device (" + (e == cudaSuccess ? std::string("cudaGetDeviceCount: 0 devices") : call) + ")");
  else if (e != cudaSuccess) missing.push_back("CUDA cannot start (" + call + ")");
  else {
    cudaDeviceProp prop;
    cudaError_t pe = cudaGetDeviceProperties(&prop, 0);
    if (pe != cudaSuccess) missing.push_back(std::string("cannot query device 0 (cudaGetDeviceProperties: ") + cudaGetErrorString(pe) + ")");
    else {
      s.details["devices"] = std::to_string(count);
      s.details["device"] = prop.name;
      s.details["computeCapability"] = std::to_string(prop.major) + "." + std::to_string(prop.minor);
      // cuDNN's and cuBLAS's bf16 tensor-core kernels start with Ampere.
      s.details["bf16"] = prop.major >= 8 ? "tensor cores" : "none (needs compute capability 8.0)";
      s.details["memoryGiB"] = std::to_string((prop.totalGlobalMem + (1ull << 29)) >> 30);
      deviceText = std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " +
                   s.details["memoryGiB"] + " GiB)";
      std::string img = kernelImageProblem();
      if (!img.empty()) missing.push_back(img);
      else deviceOk = true;
    }
  }
  const CudaLibraries& L = cudaLibraries();
  s.details["cudnn"] = L.cudnnInfo.loaded ? L.cudnnInfo.version + " at " + L.cudnnInfo.path : "not loaded: " + L.cudnnInfo.error;
  s.details["cublas"] = L.cublasInfo.loaded ? L.cublasInfo.version + " at " + L.cublasInfo.path : "not loaded: " + L.cublasInfo.error;
  if (L.cudnnInfo.loaded && L.cudnn.cudnnGetCudartVersion) s.details["cudnnBuiltForCuda"] = versionString((int)L.cudnn.cudnnGetCudartVersion());
  s.details["cudnnSearched"] = join(L.cudnnInfo.searched, ", ");
  s.details["cublasSearched"] = join(L.cublasInfo.searched, ", ");
  if (!L.cudnnInfo.loaded) missing.push_back(L.cudnnInfo.error + " (looked in " + s.details["cudnnSearched"] + "; set VGG_CIFAR_CUDNN)");
  if (!L.cublasInfo.loaded) missing.push_back(L.cublasInfo.error + " (looked in " + s.details["cublasSearched"] + "; set VGG_CIFAR_CUBLAS)");
  s.details["nhwc"] = nhwcPathDetail();
  if (!nhwcPathProblem().empty()) missing.push_back(nhwcPathProblem());
  s.details["conv"] = convPathDetail();
  if (!convPathProblem().empty()) missing.push_back(convPathProblem());
  s.available = missing.empty() && deviceOk;
  s.reason = join(missing, "; ");
  if (s.available)
    s.description = "CUDA " + versionString(rt) + ", " + deviceText + ", cuDNN " + L.cudnnInfo.version + ", cuBLAS " + L.cublasInfo.version;
  else
    s.description = "CUDA backend (runtime " + versionString(rt) + ", " + VGG_CUDA_REASON + ")";
  return s;
}

// ---------- context ----------

// The cuBLAS handle's math mode. TF32 only when asked (CUBLAS_DEFAULT_MATH never uses it for Sgemm). The
// bf16 GemmEx calls accumulate in fp32 (CUBLAS_COMPUTE_32F), but by default cuBLAS may still sum split-K
// partial results in the output type (bf16); DISALLOW_REDUCED_PRECISION_REDUCTION keeps those in fp32 too,
// as the CPU backend does (and as an fp32 master gradient needs). It changes nothing for fp32 outputs.
static cu::cublasMath_t blasMathMode(bool tf32) {
  return (cu::cublasMath_t)((tf32 ? cu::CUBLAS_TF32_TENSOR_OP_MATH : cu::CUBLAS_DEFAULT_MATH) |
                            cu::CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION);
}

CudaBackend::Context& CudaBackend::ctx(const char* op) {
  if (initDone_.load(std::memory_order_acquire)) return ctx_;
  std::lock_guard<std::mutex> lock(initMu_);
  if (initDone_.load()) return ctx_;
  BackendStatus s = status();
  if (!s.available) throw BackendErr(op, "init", "the cuda backend cannot run here: " + s.reason);
  checkCuda(cudaSetDevice(0), op, "cudaSetDevice");
  checkCuda(cudaStreamCreateWithFlags(&ctx_.stream, cudaStreamNonBlocking), op, "cudaStreamCreateWithFlags");
  checkCudnn(dnn().cudnnCreate(&ctx_.dnn), op, "cudnnCreate");
  checkCudnn(dnn().cudnnSetStream(ctx_.dnn, ctx_.stream), op, "cudnnSetStream");
  checkCublas(blas().cublasCreate_v2(&ctx_.blas), op, "cublasCreate_v2");
  checkCublas(blas().cublasSetStream_v2(ctx_.blas, ctx_.stream), op, "cublasSetStream_v2");
  checkCublas(blas().cublasSetMathMode(ctx_.blas, blasMathMode(tf32_)), op, "cublasSetMathMode");
  checkCuda(cudaMalloc(reinterpret_cast<void**>(&ctx_.fault), sizeof(DeviceFault)), op, "cudaMalloc (fault record)");
  // on the context's stream (non-blocking: the legacy default stream would not order it before our kernels)
  checkCuda(cudaMemsetAsync(ctx_.fault, 0, sizeof(DeviceFault), ctx_.stream), op, "cudaMemsetAsync (fault record)");
  initDone_.store(true, std::memory_order_release);
  return ctx_;
}

void CudaBackend::setTf32(bool on) {
  std::lock_guard<std::mutex> lock(initMu_);  // ctx() applies tf32_ under the same lock
  tf32_ = on;
  if (!initDone_) return;
  // Convolutions pick their math type per descriptor (conv.cc).
  checkCublas(blas().cublasSetMathMode(ctx_.blas, blasMathMode(on)), "setTf32", "cublasSetMathMode");
}

void* CudaBackend::grow(const char* op, std::shared_ptr<void>& buf, size_t& have, size_t bytes, const char* call) {
  if (bytes <= have) {
    retainWhileCaptured(buf);
    return buf.get();
  }
  requireNotCapturing(op, "growing the backend's workspace");
  Context& c = ctx(op);
  checkCuda(cudaStreamSynchronize(c.stream), op, "cudaStreamSynchronize");  // ops in flight may still use the old one
  buf.reset();  // freed now unless a graph holds it
  have = 0;
  size_t want = (bytes + (1 << 20) - 1) / (1 << 20) * (1 << 20);
  buf = deviceBuffer(op, want, call);
  have = want;
  return buf.get();
}

std::shared_ptr<void> ownDevicePtr(void* p) {
  return std::shared_ptr<void>(p, [](void* q) { cudaFree(q); });  // errors ignored: it may run at exit
}

std::shared_ptr<void> deviceBuffer(const char* op, size_t bytes, const char* call) {
  void* p = nullptr;
  checkCuda(cudaMalloc(&p, bytes), op, call);
  return ownDevicePtr(p);
}

void* CudaBackend::workspace(const char* op, size_t bytes) { return grow(op, ws_, wsBytes_, bytes, "cudaMalloc (workspace)"); }
void* CudaBackend::scratch(const char* op, size_t bytes) { return grow(op, scratch_, scratchBytes_, bytes, "cudaMalloc (scratch)"); }

std::vector<void*> CudaBackend::scratchSlices(const char* op, std::initializer_list<size_t> bytes) {
  auto align = [](size_t n) { return (n + 255) / 256 * 256; };
  size_t total = 0;
  for (size_t b : bytes) total += align(b);
  char* base = static_cast<char*>(scratch(op, total));
  std::vector<void*> out;
  for (size_t b : bytes) {
    out.push_back(b ? base : nullptr);
    base += align(b);
  }
  return out;
}

// ---------- memory ----------

void* CudaBackend::allocate(size_t bytes) {
  requireNotCapturing("empty", "allocating device memory");
  ctx("allocate");
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes);
  if (e != cudaSuccess) {
    cudaGetLastError();
    throw BackendErr("allocate", "cudaMalloc", "cannot allocate " + std::to_string(bytes) + " bytes on the GPU: " + cudaGetErrorString(e));
  }
  live_ += bytes;
  return p;
}

void CudaBackend::release(void* ptr, size_t bytes) {
  if (activeCapture()) {  // a tensor collected by the GC while capturing: freed when the capture ends
    releaseAfterCapture(ownDevicePtr(ptr));
    live_ -= bytes;
    return;
  }
  cudaFree(ptr);  // errors ignored: this runs in destructors, possibly at process exit
  live_ -= bytes;
}

void CudaBackend::upload(const Tensor& dst, const void* host) {
  requireNotCapturing("write", "a copy from the host");
  Context& c = ctx("write");
  size_t n = (size_t)dst.numel() * dtypeSize(dst.dtype);
  if (dst.layout == Layout::plain) {
    // From pageable memory this returns once the host buffer has been staged: safe to free after.
    checkCuda(cudaMemcpyAsync(dst.data(), host, n, cudaMemcpyHostToDevice, c.stream), "write", "cudaMemcpyAsync");
    return;
  }
  void* tmp = workspace("write", n);
  checkCuda(cudaMemcpyAsync(tmp, host, n, cudaMemcpyHostToDevice, c.stream), "write", "cudaMemcpyAsync");
  launchTranspose("write", tmp, dst.data(), dst.shape, true, dtypeSize(dst.dtype), c.stream);
}

void CudaBackend::download(const Tensor& src, void* host) {
  requireNotCapturing("toArray", "a copy to the host (a synchronization)");
  Context& c = ctx("toArray");
  size_t n = (size_t)src.numel() * dtypeSize(src.dtype);
  const void* from = src.data();
  if (src.layout != Layout::plain) {
    void* tmp = workspace("toArray", n);
    launchTranspose("toArray", src.data(), tmp, src.shape, false, dtypeSize(src.dtype), c.stream);
    from = tmp;
  }
  DeviceFault f;
  checkCuda(cudaMemcpyAsync(host, from, n, cudaMemcpyDeviceToHost, c.stream), "toArray", "cudaMemcpyAsync");
  checkCuda(cudaMemcpyAsync(&f, c.fault, sizeof f, cudaMemcpyDeviceToHost, c.stream), "toArray", "cudaMemcpyAsync (fault record)");
  // Errors of earlier asynchronous ops surface here.
  checkCuda(cudaStreamSynchronize(c.stream), "toArray", "cudaStreamSynchronize");
  if (f.code != kFaultNone) {
    checkCuda(cudaMemsetAsync(c.fault, 0, sizeof f, c.stream), "toArray", "cudaMemsetAsync (fault record)");
    throw RangeErr(faultMessage(f));
  }
}

void CudaBackend::copy(const Tensor& src, const Tensor& dst) {
  Context& c = ctx("copy");
  if (src.layout == dst.layout) {
    checkCuda(cudaMemcpyAsync(dst.data(), src.data(), src.bytes(), cudaMemcpyDeviceToDevice, c.stream), "copy", "cudaMemcpyAsync");
    return;
  }
  if (src.layout == Layout::plain && dst.layout == Layout::nhwc)
    launchTranspose("copy", src.data(), dst.data(), src.shape, true, dtypeSize(src.dtype), c.stream);
  else if (src.layout == Layout::nhwc && dst.layout == Layout::plain)
    launchTranspose("copy", src.data(), dst.data(), src.shape, false, dtypeSize(src.dtype), c.stream);
  else
    throw RangeErr(std::string("copy: the cuda backend cannot convert ") + layoutName(src.layout) + " to " + layoutName(dst.layout));
}

void CudaBackend::fill(const Tensor& t, float value) {
  Context& c = ctx("fill");
  int64_t n = physicalNumel(t.shape, t.layout);
  if (t.dtype == DType::u8) {
    checkCuda(cudaMemsetAsync(t.data(), (int)(uint8_t)value, (size_t)n, c.stream), "fill", "cudaMemsetAsync");
    return;
  }
  if (t.dtype != DType::f32 && t.dtype != DType::i32 && t.dtype != DType::bf16)
    throw RangeErr(std::string("fill: not supported for ") + dtypeName(t.dtype) + " on cuda");
  launchFill("fill", t.data(), t.dtype, n, value, c.stream);
}

}  // namespace vgg

// Max pooling, float32 or bfloat16 (a max is exact in any dtype, so bf16 pooling loses nothing): plain
// activations through cuDNN; nhwc ones (bf16 training) through our kernels (pool.cu) or cuDNN's legacy calls,
// per shape the faster on this GPU under VGG_CIFAR_CUDA_NHWC=auto (nhwc_tune.cc), or the one it names. Both
// backwards find the maximum again from x, so the workspace the CPU backend keeps (oneDNN's indices) is not
// needed here: its size is 0.
#include <map>
#include <memory>
#include "cuda/cuda_backend.h"
#include "cuda/tune.h"

namespace vgg {

namespace {

struct PoolPlan {
  cu::cudnnTensorDescriptor_t xD = nullptr, yD = nullptr, xF = nullptr, yF = nullptr;  // as stored; fp32 NCHW (cudnnOrViaF32)
  cu::cudnnPoolingDescriptor_t pD = nullptr;
  bool forwardViaF32 = false, backwardViaF32 = false;
  cu::cudnnTensorDescriptor_t x(bool f32) const { return f32 ? xF : xD; }
  cu::cudnnTensorDescriptor_t y(bool f32) const { return f32 ? yF : yD; }
};

std::mutex plansMu;
std::map<std::string, std::unique_ptr<PoolPlan>> plans;

// x and y share a dtype and a layout (napi), and so do dy and dx with them.
PoolPlan& planFor(const char* op, const Tensor& x, const Tensor& y, const PoolParams& p) {
  std::string key = tensorKey(x) + tensorKey(y) + "/" + std::to_string(p.kernelH) + "," + std::to_string(p.kernelW) + "," +
                    std::to_string(p.strideH) + "," + std::to_string(p.strideW) + "," + std::to_string(p.padH) + "," + std::to_string(p.padW);
  std::lock_guard<std::mutex> lock(plansMu);
  auto it = plans.find(key);
  if (it != plans.end()) return *it->second;
  auto plan = std::make_unique<PoolPlan>();
  PoolPlan& P = *plan;
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &P.xD);
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &P.yD);
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &P.xF);
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &P.yF);
  VGG_CUDNN_CALL(op, cudnnCreatePoolingDescriptor, &P.pD);
  setTensor4d(op, P.xD, x.shape, x.dtype, x.layout == Layout::nhwc);
  setTensor4d(op, P.yD, y.shape, y.dtype, y.layout == Layout::nhwc);
  setTensor4d(op, P.xF, x.shape, DType::f32, false);
  setTensor4d(op, P.yF, y.shape, DType::f32, false);
  // Deterministic max pooling; NaN propagates as in PyTorch.
  VGG_CUDNN_CALL(op, cudnnSetPooling2dDescriptor, P.pD, cu::CUDNN_POOLING_MAX_DETERMINISTIC, cu::CUDNN_PROPAGATE_NAN, p.kernelH, p.kernelW,
                 p.padH, p.padW, p.strideH, p.strideW);
  plans[key] = std::move(plan);
  return P;
}

}  // namespace

size_t CudaBackend::maxPool2dWorkspaceSize(const Tensor& x, const Tensor& y, const PoolParams& p) { return 0; }

void maxPoolForwardVia(NhwcPath path, const char* op, const Tensor& x, const Tensor& y, const PoolParams& p) {
  CudaBackend::Context& c = cuda().ctx(op);
  if (x.layout == Layout::nhwc && path == NhwcPath::ours) return launchMaxPoolNhwcForward(op, x, y, p, c.stream);
  PoolPlan& P = planFor(op, x, y, p);
  const float one = 1.0f, zero = 0.0f;
  const cu::Cudnn& dnn = cuda().dnn();
  cudnnOrViaF32(op, "cudnnPoolingForward", &P.forwardViaF32, {&x}, y, [&](bool f32, const void* const* in, void* out) {
    return dnn.cudnnPoolingForward(c.dnn, P.pD, &one, P.x(f32), in[0], &zero, P.y(f32), out);
  });
}

void maxPoolBackwardVia(NhwcPath path, const char* op, const Tensor& dy, const Tensor& x, const Tensor& y, const Tensor& dx,
                        const PoolParams& p) {
  CudaBackend::Context& c = cuda().ctx(op);
  if (x.layout == Layout::nhwc && path == NhwcPath::ours) return launchMaxPoolNhwcBackward(op, dy, x, dx, p, c.stream);
  PoolPlan& P = planFor(op, x, y, p);
  const float one = 1.0f, zero = 0.0f;
  const cu::Cudnn& dnn = cuda().dnn();
  cudnnOrViaF32(op, "cudnnPoolingBackward", &P.backwardViaF32, {&y, &dy, &x}, dx, [&](bool f32, const void* const* in, void* out) {
    return dnn.cudnnPoolingBackward(c.dnn, P.pD, &one, P.y(f32), in[0], P.y(f32), in[1], P.x(f32), in[2], &zero, P.x(f32), out);
  });
}

void CudaBackend::maxPool2dForward(const Tensor& x, const Tensor& y, const Tensor* ws, const PoolParams& p) {
  const char* op = "maxPool2dForward";
  requireActivation(op, {&x, &y});
  ctx(op);
  NhwcPath path = x.layout == Layout::nhwc ? nhwcPath() : NhwcPath::cudnn;
  if (path == NhwcPath::tuned) path = tunedMaxPool(op, x, y, p);
  maxPoolForwardVia(path, op, x, y, p);
}

void CudaBackend::maxPool2dBackward(const Tensor& dy, const Tensor& x, const Tensor& y, const Tensor& ws, const Tensor& dx, const PoolParams& p) {
  const char* op = "maxPool2dBackward";
  requireActivation(op, {&dy, &x, &y, &dx});
  ctx(op);
  NhwcPath path = x.layout == Layout::nhwc ? nhwcPath() : NhwcPath::cudnn;
  if (path == NhwcPath::tuned) path = tunedMaxPoolChoice(x, y, p);
  maxPoolBackwardVia(path, op, dy, x, y, dx, p);
}

}  // namespace vgg

// Max pooling through cuDNN. cuDNN's backward finds the maximum again from x and y, so the workspace
// the CPU backend keeps (oneDNN's indices) is not needed here: its size is 0.
#include <map>
#include <memory>
#include "cuda/cuda_backend.h"

namespace vgg {

namespace {

struct PoolPlan {
  cu::cudnnTensorDescriptor_t xD = nullptr, yD = nullptr;
  cu::cudnnPoolingDescriptor_t pD = nullptr;
};

std::mutex plansMu;
std::map<std::string, std::unique_ptr<PoolPlan>> plans;

PoolPlan& planFor(const char* op, const Tensor& x, const Tensor& y, const PoolParams& p) {
  std::string key = shapeString(x.shape) + shapeString(y.shape) + "/" + std::to_string(p.kernelH) + "," + std::to_string(p.kernelW) + "," +
                    std::to_string(p.strideH) + "," + std::to_string(p.strideW) + "," + std::to_string(p.padH) + "," + std::to_string(p.padW);
  std::lock_guard<std::mutex> lock(plansMu);
  auto it = plans.find(key);
  if (it != plans.end()) return *it->second;
  auto plan = std::make_unique<PoolPlan>();
  PoolPlan& P = *plan;
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &P.xD);
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &P.yD);
  VGG_CUDNN_CALL(op, cudnnCreatePoolingDescriptor, &P.pD);
  VGG_CUDNN_CALL(op, cudnnSetTensor4dDescriptor, P.xD, cu::CUDNN_TENSOR_NCHW, cu::CUDNN_DATA_FLOAT, (int)x.shape[0], (int)x.shape[1],
                 (int)x.shape[2], (int)x.shape[3]);
  VGG_CUDNN_CALL(op, cudnnSetTensor4dDescriptor, P.yD, cu::CUDNN_TENSOR_NCHW, cu::CUDNN_DATA_FLOAT, (int)y.shape[0], (int)y.shape[1],
                 (int)y.shape[2], (int)y.shape[3]);
  // Deterministic max pooling; NaN propagates as in PyTorch.
  VGG_CUDNN_CALL(op, cudnnSetPooling2dDescriptor, P.pD, cu::CUDNN_POOLING_MAX_DETERMINISTIC, cu::CUDNN_PROPAGATE_NAN, p.kernelH, p.kernelW,
                 p.padH, p.padW, p.strideH, p.strideW);
  plans[key] = std::move(plan);
  return P;
}

}  // namespace

size_t CudaBackend::maxPool2dWorkspaceSize(const Tensor& x, const Tensor& y, const PoolParams& p) { return 0; }

void CudaBackend::maxPool2dForward(const Tensor& x, const Tensor& y, const Tensor* ws, const PoolParams& p) {
  const char* op = "maxPool2dForward";
  requirePlainF32(op, {&x, &y});
  Context& c = ctx(op);
  PoolPlan& P = planFor(op, x, y, p);
  const float one = 1.0f, zero = 0.0f;
  VGG_CUDNN_CALL(op, cudnnPoolingForward, c.dnn, P.pD, &one, P.xD, x.data(), &zero, P.yD, y.data());
}

void CudaBackend::maxPool2dBackward(const Tensor& dy, const Tensor& x, const Tensor& y, const Tensor& ws, const Tensor& dx, const PoolParams& p) {
  const char* op = "maxPool2dBackward";
  requirePlainF32(op, {&dy, &x, &y, &dx});
  Context& c = ctx(op);
  PoolPlan& P = planFor(op, x, y, p);
  const float one = 1.0f, zero = 0.0f;
  VGG_CUDNN_CALL(op, cudnnPoolingBackward, c.dnn, P.pD, &one, P.yD, y.data(), P.yD, dy.data(), P.xD, x.data(), &zero, P.xD, dx.data());
}

}  // namespace vgg

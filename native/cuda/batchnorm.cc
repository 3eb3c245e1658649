// Spatial batch normalization through cuDNN (the path PyTorch takes on GPUs): the same running-statistics
// semantics (momentum as the exponential-average factor, unbiased running variance) and saved 1/sqrt(var+eps).
#include <map>
#include <memory>
#include "cuda/cuda_backend.h"

namespace vgg {

namespace {

struct BnPlan {
  cu::cudnnTensorDescriptor_t xD = nullptr, cD = nullptr;  // x: [N,C,H,W], per-channel: [1,C,1,1]
};

std::mutex plansMu;
std::map<std::string, std::unique_ptr<BnPlan>> plans;

BnPlan& planFor(const char* op, const Tensor& x) {
  std::string key = shapeString(x.shape);
  std::lock_guard<std::mutex> lock(plansMu);
  auto it = plans.find(key);
  if (it != plans.end()) return *it->second;
  auto plan = std::make_unique<BnPlan>();
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &plan->xD);
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &plan->cD);
  VGG_CUDNN_CALL(op, cudnnSetTensor4dDescriptor, plan->xD, cu::CUDNN_TENSOR_NCHW, cu::CUDNN_DATA_FLOAT, (int)x.shape[0], (int)x.shape[1],
                 (int)x.shape[2], (int)x.shape[3]);
  VGG_CUDNN_CALL(op, cudnnSetTensor4dDescriptor, plan->cD, cu::CUDNN_TENSOR_NCHW, cu::CUDNN_DATA_FLOAT, 1, (int)x.shape[1], 1, 1);
  BnPlan& P = *plan;
  plans[key] = std::move(plan);
  return P;
}

}  // namespace

void CudaBackend::batchNorm2dForward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& runningMean,
                                     const Tensor& runningVar, const Tensor& y, const Tensor& saveMean, const Tensor& saveInvStd,
                                     const BatchNormParams& p) {
  const char* op = "batchNorm2dForward";
  requirePlainF32(op, {&x, &gamma, &beta, &runningMean, &runningVar, &y, &saveMean, &saveInvStd});
  Context& c = ctx(op);
  BnPlan& P = planFor(op, x);
  const float one = 1.0f, zero = 0.0f;
  if (p.training)
    VGG_CUDNN_CALL(op, cudnnBatchNormalizationForwardTraining, c.dnn, cu::CUDNN_BATCHNORM_SPATIAL, &one, &zero, P.xD, x.data(), P.xD, y.data(),
                   P.cD, gamma.data(), beta.data(), (double)p.momentum, runningMean.data(), runningVar.data(), (double)p.eps,
                   saveMean.data(), saveInvStd.data());
  else
    VGG_CUDNN_CALL(op, cudnnBatchNormalizationForwardInference, c.dnn, cu::CUDNN_BATCHNORM_SPATIAL, &one, &zero, P.xD, x.data(), P.xD,
                   y.data(), P.cD, gamma.data(), beta.data(), runningMean.data(), runningVar.data(), (double)p.eps);
  if (p.relu) reluForward(y, y);  // in place, on the same stream
}

void CudaBackend::batchNorm2dBackward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& saveMean, const Tensor& saveInvStd,
                                      const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, float eps) {
  const char* op = "batchNorm2dBackward";
  requirePlainF32(op, {&x, &dy, &gamma, &saveMean, &saveInvStd, &dx, &dgamma, &dbeta});
  Context& c = ctx(op);
  BnPlan& P = planFor(op, x);
  const float one = 1.0f, zero = 0.0f;
  VGG_CUDNN_CALL(op, cudnnBatchNormalizationBackward, c.dnn, cu::CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, P.xD, x.data(), P.xD,
                 dy.data(), P.xD, dx.data(), P.cD, gamma.data(), dgamma.data(), dbeta.data(), (double)eps, saveMean.data(),
                 saveInvStd.data());
}

}  // namespace vgg

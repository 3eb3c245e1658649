// Spatial batch normalization: nhwc activations (bf16 training) through our kernels (batchnorm.cu), plain
// ones through cuDNN (the path PyTorch takes on GPUs, and faster than ours on NCHW fp32). VGG_CIFAR_CUDA_NHWC
// sends nhwc ones to cuDNN's legacy calls here (cudnn) or to the *Ex candidate (cudnn-ex, batchnorm_ex.cc); auto
// (the default) picks among the three per shape by timing them (nhwc_tune.cc).
// All keep the same running-statistics semantics (momentum as the exponential-average factor, unbiased
// running variance) and saved 1/sqrt(var+eps). x, y, dy, dx are float32 or bfloat16; the per-channel
// tensors are float32, as cuDNN's derived BN descriptor is for half and bfloat16 data, and statistics are
// fp32. Here CUDNN_BATCHNORM_SPATIAL, not SPATIAL_PERSISTENT: the latter's atomic reductions may differ run
// to run (only the cudnn-ex candidate takes it).
#include <map>
#include <memory>
#include "cuda/cuda_backend.h"
#include "cuda/tune.h"

namespace vgg {

namespace {

struct BnPlan {
  // x as stored; x as fp32 NCHW (cudnnOrViaF32's retry); per-channel [1,C,1,1] float
  cu::cudnnTensorDescriptor_t xD = nullptr, fD = nullptr, cD = nullptr;
  bool trainViaF32 = false, inferViaF32 = false, backwardViaF32 = false;  // per call: cuDNN may take one and not another
  cu::cudnnTensorDescriptor_t x(bool f32) const { return f32 ? fD : xD; }
};

std::mutex plansMu;
std::map<std::string, std::unique_ptr<BnPlan>> plans;

BnPlan& planFor(const char* op, const Tensor& x) {
  std::string key = tensorKey(x);
  std::lock_guard<std::mutex> lock(plansMu);
  auto it = plans.find(key);
  if (it != plans.end()) return *it->second;
  auto plan = std::make_unique<BnPlan>();
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &plan->xD);
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &plan->fD);
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &plan->cD);
  setTensor4d(op, plan->xD, x.shape, x.dtype, x.layout == Layout::nhwc);
  setTensor4d(op, plan->fD, x.shape, DType::f32, false);
  // What cudnnDeriveBNTensorDescriptor gives in spatial mode for float, half and bfloat16 x alike.
  setTensor4d(op, plan->cD, {1, x.shape[1], 1, 1}, DType::f32, false);
  BnPlan& P = *plan;
  plans[key] = std::move(plan);
  return P;
}

const float kOne = 1.0f, kZero = 0.0f;

}  // namespace

void batchNormForwardVia(NhwcPath path, const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                         const Tensor& runningMean, const Tensor& runningVar, const Tensor& y, const Tensor& saveMean,
                         const Tensor& saveInvStd, const BatchNormParams& p) {
  CudaBackend::Context& c = cuda().ctx(op);
  if (x.layout == Layout::nhwc) {
    // The *Ex calls train only: inference runs our kernels (the legacy inference call is the slow one measured).
    if (path == NhwcPath::cudnnEx && p.training && batchNormExForward(op, x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvStd, p))
      return;
    if (path != NhwcPath::cudnn)
      return launchBatchNormNhwcForward(op, x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvStd, p, c.stream);
  }
  BnPlan& P = planFor(op, x);
  const cu::Cudnn& dnn = cuda().dnn();
  if (p.training)
    cudnnOrViaF32(op, "cudnnBatchNormalizationForwardTraining", &P.trainViaF32, {&x}, y, [&](bool f32, const void* const* in, void* out) {
      return dnn.cudnnBatchNormalizationForwardTraining(c.dnn, cu::CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, P.x(f32), in[0], P.x(f32), out,
                                                        P.cD, gamma.data(), beta.data(), (double)p.momentum, runningMean.data(),
                                                        runningVar.data(), (double)p.eps, saveMean.data(), saveInvStd.data());
    });
  else
    cudnnOrViaF32(op, "cudnnBatchNormalizationForwardInference", &P.inferViaF32, {&x}, y, [&](bool f32, const void* const* in, void* out) {
      return dnn.cudnnBatchNormalizationForwardInference(c.dnn, cu::CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, P.x(f32), in[0], P.x(f32), out,
                                                         P.cD, gamma.data(), beta.data(), runningMean.data(), runningVar.data(),
                                                         (double)p.eps);
    });
  if (p.relu) cuda().reluForward(y, y);  // in place, on the same stream
}

void batchNormBackwardVia(NhwcPath path, const char* op, const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& saveMean,
                          const Tensor& saveInvStd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, float eps,
                          const Tensor* reluY) {
  CudaBackend::Context& c = cuda().ctx(op);
  if (x.layout == Layout::nhwc) {
    if (path == NhwcPath::cudnnEx && batchNormExBackward(op, x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, eps, reluY)) return;
    if (path != NhwcPath::cudnn)
      return launchBatchNormNhwcBackward(op, x, dy, reluY, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, c.stream);
  }
  if (reluY) cuda().reluBackward(*reluY, dy, dy);  // cuDNN's legacy call takes no activation: mask dy in place first
  BnPlan& P = planFor(op, x);
  const cu::Cudnn& dnn = cuda().dnn();
  cudnnOrViaF32(op, "cudnnBatchNormalizationBackward", &P.backwardViaF32, {&x, &dy}, dx, [&](bool f32, const void* const* in, void* out) {
    return dnn.cudnnBatchNormalizationBackward(c.dnn, cu::CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, &kOne, &kZero, P.x(f32), in[0],
                                               P.x(f32), in[1], P.x(f32), out, P.cD, gamma.data(), dgamma.data(), dbeta.data(),
                                               (double)eps, saveMean.data(), saveInvStd.data());
  });
}

void CudaBackend::batchNorm2dForward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& runningMean,
                                     const Tensor& runningVar, const Tensor& y, const Tensor& saveMean, const Tensor& saveInvStd,
                                     const BatchNormParams& p) {
  const char* op = "batchNorm2dForward";
  requireActivation(op, {&x, &y});
  requirePlainF32(op, {&gamma, &beta, &runningMean, &runningVar, &saveMean, &saveInvStd});
  ctx(op);
  NhwcPath path = x.layout == Layout::nhwc ? nhwcPath() : NhwcPath::cudnn;
  // Inference is not tuned: only our kernels and the slow legacy call have one.
  if (path == NhwcPath::tuned) path = p.training ? tunedBatchNorm(op, x, gamma, beta, p) : NhwcPath::ours;
  batchNormForwardVia(path, op, x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvStd, p);
}

void CudaBackend::batchNorm2dBackward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& saveMean, const Tensor& saveInvStd,
                                      const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, float eps, const Tensor* reluY) {
  const char* op = "batchNorm2dBackward";
  requireActivation(op, {&x, &dy, &dx});
  requirePlainF32(op, {&gamma, &saveMean, &saveInvStd, &dgamma, &dbeta});
  ctx(op);
  NhwcPath path = x.layout == Layout::nhwc ? nhwcPath() : NhwcPath::cudnn;
  if (path == NhwcPath::tuned) path = tunedBatchNormChoice(x, reluY != nullptr);
  batchNormBackwardVia(path, op, x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, eps, reluY);
}

}  // namespace vgg

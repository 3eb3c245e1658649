// The cudnn-ex candidate for NHWC BatchNorm (VGG_CIFAR_CUDA_NHWC=cudnn-ex): cudnnBatchNormalization*Ex in
// CUDNN_BATCHNORM_SPATIAL_PERSISTENT mode, with the ReLU fused (CUDNN_BATCHNORM_OPS_BN_ACTIVATION) when the
// forward asks for it, so that a GPU run can measure it beside our kernels and the legacy calls.
//
// Semantics are the legacy call's (batchnorm.cc): momentum as the exponential-average factor, unbiased
// running variance, saved mean and 1/sqrt(var + eps). Unlike ours, PERSISTENT mode may reduce with atomics:
// results need not be identical run to run.
//
// The *Ex forward leaves a reserve space (the ReLU's mask, among others) that its backward must get back,
// and the backward of the fused op also needs beta. Our op surface passes neither, so both stay here: one
// reserve buffer per saveMean storage (the tensor every backward is handed), noting which forward filled
// it and which beta it used. A backward whose saveMean was not last written by a matching *Ex forward
// returns false and runs our kernels, which need only the saved statistics.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include "core/capture.h"
#include "cuda/cuda_backend.h"

namespace vgg {

namespace {

constexpr cu::cudnnBatchNormMode_t kMode = cu::CUDNN_BATCHNORM_SPATIAL_PERSISTENT;
const float kOne = 1.0f, kZero = 0.0f;

// One x (shape, dtype, nhwc) and one op set: sizes asked of cuDNN once.
struct ExPlan {
  cu::cudnnTensorDescriptor_t xD = nullptr, cD = nullptr;
  cu::cudnnBatchNormOps_t ops = cu::CUDNN_BATCHNORM_OPS_BN;
  size_t fwdWs = 0, bwdWs = 0, reserve = 0;
  std::string refused;  // cuDNN's refusal (then our kernels run this plan), empty while it takes it
  bool ran = false;
};

// What the last *Ex forward that wrote a saveMean storage left for its backward.
struct Reserve {
  std::weak_ptr<Storage> owner;  // saveMean's storage
  std::shared_ptr<void> data;    // a graph that reads it keeps it
  size_t bytes = 0;
  std::string plan;              // the forward's plan key
  uint64_t meanVersion = 0, invStdVersion = 0;  // saveMean's and saveInvStd's versions after that forward
  std::weak_ptr<Storage> invStd, beta;
  uint64_t betaVersion = 0;
};

std::mutex mu;  // guards everything below
std::map<std::string, std::unique_ptr<ExPlan>> plans;
std::map<const Storage*, Reserve> reserves;
cu::cudnnActivationDescriptor_t reluD = nullptr;
size_t unmatchedBackwards = 0;  // backwards that found no reserve space of a matching forward (ran our kernels)

const char* opsName(cu::cudnnBatchNormOps_t ops) { return ops == cu::CUDNN_BATCHNORM_OPS_BN_ACTIVATION ? "bn+relu" : "bn"; }
std::string planKey(const Tensor& x, cu::cudnnBatchNormOps_t ops) { return tensorKey(x) + " " + opsName(ops); }
cu::cudnnActivationDescriptor_t act(const ExPlan& P) { return P.ops == cu::CUDNN_BATCHNORM_OPS_BN_ACTIVATION ? reluD : nullptr; }

// Records cuDNN's refusal of a plan (reported once, and in status().details.nhwcEx): returns false.
bool refuse(const char* op, ExPlan& P, const std::string& key, const char* call, cu::cudnnStatus_t s) {
  P.refused = std::string(call) + ": " + cudnnStatusText(s);
  noteFallback(op, "cuDNN refused " + key + " (" + P.refused + ")", "our NHWC BatchNorm kernels");
  return false;
}

// The plan for x and ops, its sizes asked of cuDNN on first use; nullptr when cuDNN refused it (now or before).
ExPlan* planFor(const char* op, const Tensor& x, cu::cudnnBatchNormOps_t ops) {
  std::string key = planKey(x, ops);
  auto it = plans.find(key);
  if (it != plans.end()) return it->second->refused.empty() ? it->second.get() : nullptr;
  const auto& d = cuda().dnn();
  cu::cudnnHandle_t h = cuda().ctx(op).dnn;
  if (!reluD) {
    VGG_CUDNN_CALL(op, cudnnCreateActivationDescriptor, &reluD);
    VGG_CUDNN_CALL(op, cudnnSetActivationDescriptor, reluD, cu::CUDNN_ACTIVATION_RELU, cu::CUDNN_PROPAGATE_NAN, 0.0);
  }
  auto plan = std::make_unique<ExPlan>();
  ExPlan& P = *plan;
  P.ops = ops;
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &P.xD);
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &P.cD);
  setTensor4d(op, P.xD, x.shape, x.dtype, true);
  setTensor4d(op, P.cD, {1, x.shape[1], 1, 1}, DType::f32, false);  // as cudnnDeriveBNTensorDescriptor gives for f32 and bf16
  // A refusal is kept (the plan then runs our kernels); any other failure throws and keeps nothing.
  auto ok = [&](cu::cudnnStatus_t s, const char* call) {
    if (s == cu::CUDNN_STATUS_SUCCESS) return true;
    if (!cudnnRefused(s)) checkCudnn(s, op, call);
    return refuse(op, P, key, call, s);
  };
  // y and dy are what the fused activation's backward reads; z and dz are absent (no residual add).
  bool sized = ok(d.cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize(h, kMode, ops, P.xD, nullptr, P.xD, P.cD, act(P), &P.fwdWs),
                  "cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize") &&
               ok(d.cudnnGetBatchNormalizationBackwardExWorkspaceSize(h, kMode, ops, P.xD, act(P) ? P.xD : nullptr, P.xD, nullptr, P.xD,
                                                                      P.cD, act(P), &P.bwdWs),
                  "cudnnGetBatchNormalizationBackwardExWorkspaceSize") &&
               ok(d.cudnnGetBatchNormalizationTrainingExReserveSpaceSize(h, kMode, ops, act(P), P.xD, &P.reserve),
                  "cudnnGetBatchNormalizationTrainingExReserveSpaceSize");
  plans[key] = std::move(plan);
  return sized ? &P : nullptr;
}

// saveMean's reserve buffer, at least `bytes` (nullptr for 0). Allocating is refused while a graph is captured.
Reserve& reserveFor(const char* op, const Tensor& saveMean, size_t bytes) {
  Reserve* r = nullptr;
  auto it = reserves.find(saveMean.storage.get());
  if (it != reserves.end() && it->second.owner.lock() == saveMean.storage) r = &it->second;
  if (!r || r->bytes < bytes) {
    requireNotCapturing(op, "allocating a BatchNorm reserve space");
    // Buffers of freed saveMean storages go now (never while capturing: cudaFree is no capturable call).
    for (auto i = reserves.begin(); i != reserves.end();) i = i->second.owner.expired() ? reserves.erase(i) : std::next(i);
    r = &reserves[saveMean.storage.get()];
    r->data.reset();  // cudaFree synchronizes: a queued backward reading it is done
    r->bytes = 0;
    if (bytes) {
      r->data = deviceBuffer(op, bytes, "cudaMalloc (BatchNorm reserve space)");
      r->bytes = bytes;
    }
    r->owner = saveMean.storage;
  }
  if (r->data) retainWhileCaptured(r->data);
  return *r;
}

bool exAvailable(const char* op) {
  static const std::string missing = cudnnExMissing();
  static std::once_flag noted;
  return optionalCallsLoaded(op, missing, noted, "our NHWC BatchNorm kernels");
}

}  // namespace

bool batchNormExForward(const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& runningMean,
                        const Tensor& runningVar, const Tensor& y, const Tensor& saveMean, const Tensor& saveInvStd,
                        const BatchNormParams& p) {
  if (!exAvailable(op)) return false;
  std::lock_guard<std::mutex> lock(mu);
  cu::cudnnBatchNormOps_t ops = p.relu ? cu::CUDNN_BATCHNORM_OPS_BN_ACTIVATION : cu::CUDNN_BATCHNORM_OPS_BN;
  ExPlan* P = planFor(op, x, ops);
  if (!P) return false;
  cu::cudnnHandle_t h = cuda().ctx(op).dnn;
  Reserve& r = reserveFor(op, saveMean, P->reserve);
  void* ws = cuda().workspace(op, P->fwdWs);
  cu::cudnnStatus_t s = cuda().dnn().cudnnBatchNormalizationForwardTrainingEx(
      h, kMode, ops, &kOne, &kZero, P->xD, x.data(), nullptr, nullptr, P->xD, y.data(), P->cD, gamma.data(), beta.data(),
      (double)p.momentum, runningMean.data(), runningVar.data(), (double)p.eps, saveMean.data(), saveInvStd.data(), act(*P), ws, P->fwdWs,
      r.data.get(), r.bytes);
  if (cudnnRefused(s)) return refuse(op, *P, planKey(x, ops), "cudnnBatchNormalizationForwardTrainingEx", s);
  checkCudnn(s, op, "cudnnBatchNormalizationForwardTrainingEx");
  P->ran = true;
  // napi bumps the versions of what the op wrote once it returns.
  r.plan = planKey(x, ops);
  r.meanVersion = saveMean.storage->version + 1;
  r.invStd = saveInvStd.storage;
  r.invStdVersion = saveInvStd.storage->version + 1;
  r.beta = beta.storage;
  r.betaVersion = beta.storage->version;
  return true;
}

bool batchNormExBackward(const char* op, const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& saveMean,
                         const Tensor& saveInvStd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, float eps,
                         const Tensor* reluY) {
  if (!exAvailable(op)) return false;
  std::lock_guard<std::mutex> lock(mu);
  cu::cudnnBatchNormOps_t ops = reluY ? cu::CUDNN_BATCHNORM_OPS_BN_ACTIVATION : cu::CUDNN_BATCHNORM_OPS_BN;
  std::string key = planKey(x, ops);
  auto it = reserves.find(saveMean.storage.get());
  if (it == reserves.end()) return ++unmatchedBackwards, false;
  Reserve& r = it->second;
  std::shared_ptr<Storage> beta = r.beta.lock();
  // The statistics (and, for the fused ReLU, beta) the reserve space was written with must be those of now.
  bool matches = r.owner.lock() == saveMean.storage && r.plan == key && r.meanVersion == saveMean.storage->version &&
                 r.invStd.lock() == saveInvStd.storage && r.invStdVersion == saveInvStd.storage->version &&
                 (!reluY || (beta && beta->version == r.betaVersion));
  auto pit = plans.find(key);
  if (!matches || pit == plans.end() || !pit->second->refused.empty()) return ++unmatchedBackwards, false;
  ExPlan& P = *pit->second;
  cu::cudnnHandle_t h = cuda().ctx(op).dnn;
  if (r.data) retainWhileCaptured(r.data);
  if (reluY) retainWhileCaptured(beta);  // read by the fused backward, but not one of this op's arguments
  void* ws = cuda().workspace(op, P.bwdWs);
  cu::cudnnStatus_t s = cuda().dnn().cudnnBatchNormalizationBackwardEx(
      h, kMode, ops, &kOne, &kZero, &kOne, &kZero, P.xD, x.data(), reluY ? P.xD : nullptr, reluY ? reluY->data() : nullptr, P.xD,
      dy.data(), nullptr, nullptr, P.xD, dx.data(), P.cD, gamma.data(), reluY ? beta->ptr : nullptr, dgamma.data(), dbeta.data(),
      (double)eps, saveMean.data(), saveInvStd.data(), act(P), ws, P.bwdWs, r.data.get(), r.bytes);
  if (cudnnRefused(s)) return refuse(op, P, key, "cudnnBatchNormalizationBackwardEx", s);
  checkCudnn(s, op, "cudnnBatchNormalizationBackwardEx");
  return true;
}

std::string batchNormExSummary() {
  std::lock_guard<std::mutex> lock(mu);
  return planLists(plans, "ran through cuDNN", "our kernels", [](const std::string& key, const ExPlan& P) { return P.ran ? key : ""; }) +
         ". Backwards without a matching *Ex forward (our kernels ran): " + std::to_string(unmatchedBackwards);
}

}  // namespace vgg

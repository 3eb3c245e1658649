// The Backend interface: every op of binding.d.ts, implemented once per device (native/cpu, native/cuda).
// The napi layer has already checked dtypes, shapes, devices and layouts when these are called, so a
// backend only checks what depends on its own library (and reports failures as BackendErr).
#pragma once
#include <map>
#include <string>
#include "core/params.h"
#include "core/tensor.h"

namespace vgg {

struct BackendStatus {
  bool compiled = false, available = false;
  std::string description, reason;
  std::map<std::string, std::string> details;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  virtual BackendStatus status() = 0;

  // memory
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* ptr, size_t bytes) = 0;
  virtual size_t liveBytes() const = 0;
  virtual Layout preferredLayout(const std::vector<int64_t>& shape) const = 0;
  // host <-> device, host data in plain order
  virtual void upload(const Tensor& dst, const void* host) = 0;
  virtual void download(const Tensor& src, void* host) = 0;
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;  // layouts may differ
  virtual void fill(const Tensor& t, float value) = 0;

  // convolution
  virtual void conv2dForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, const ConvParams& p, bool fuseRelu) = 0;
  virtual void conv2dBackwardData(const Tensor& dy, const Tensor& w, const Tensor& dx, const ConvParams& p) = 0;
  virtual void conv2dBackwardFilter(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor* db, const ConvParams& p) = 0;

  // pooling
  virtual size_t maxPool2dWorkspaceSize(const Tensor& x, const Tensor& y, const PoolParams& p) = 0;
  virtual void maxPool2dForward(const Tensor& x, const Tensor& y, const Tensor* ws, const PoolParams& p) = 0;
  virtual void maxPool2dBackward(const Tensor& dy, const Tensor& x, const Tensor& y, const Tensor& ws, const Tensor& dx, const PoolParams& p) = 0;

  // linear
  virtual void linearForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, bool fuseRelu) = 0;
  virtual void linearBackward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor* dx, const Tensor& dw, const Tensor* db) = 0;

  // elementwise
  virtual void reluForward(const Tensor& x, const Tensor& y) = 0;
  virtual void reluBackward(const Tensor& y, const Tensor& dy, const Tensor& dx) = 0;
  virtual void dropoutForward(const Tensor& x, const Tensor& mask, const Tensor& y, float p, uint64_t seed) = 0;
  virtual void dropoutBackward(const Tensor& dy, const Tensor& mask, const Tensor& dx, float p) = 0;
  virtual void axpby(const Tensor& x, const Tensor& y, float alpha, float beta) = 0;

  // batch norm
  virtual void batchNorm2dForward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& runningMean,
                                  const Tensor& runningVar, const Tensor& y, const Tensor& saveMean, const Tensor& saveInvStd,
                                  const BatchNormParams& p) = 0;
  virtual void batchNorm2dBackward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& saveMean,
                                   const Tensor& saveInvStd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, float eps) = 0;

  // loss and metrics
  virtual void softmaxCrossEntropy(const Tensor& logits, const Tensor& labels, const Tensor* dlogits, const Tensor& lossAcc,
                                   float labelSmoothing, bool accumulate) = 0;
  virtual void argmax(const Tensor& logits, const Tensor& out) = 0;
  virtual void countCorrect(const Tensor& logits, const Tensor& labels, const Tensor& correct, bool accumulate) = 0;
  virtual void sumSquares(const Tensor& x, const Tensor& out, bool accumulate) = 0;
  virtual void softmax(const Tensor& logits, const Tensor& probs) = 0;

  // optimizers
  virtual void sgdUpdate(const Tensor& param, const Tensor& grad, const Tensor* momentumBuf, const SgdParams& p) = 0;
  virtual void adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor* vmax, const AdamParams& p) = 0;
  virtual void adagradUpdate(const Tensor& param, const Tensor& grad, const Tensor& sum, const AdagradParams& p) = 0;

  // data
  virtual void loadBatch(const Tensor& dataset, const Tensor& indices, const Tensor& out, const BatchParams& p) = 0;
  virtual void gatherLabels(const Tensor& labels, const Tensor& indices, const Tensor& out) = 0;
};

// The process-wide backends. cpuBackend() always exists; cudaBackend() exists when compiled in
// (its status() says whether it can run here).
Backend& cpuBackend();
Backend* cudaBackend();  // nullptr when not compiled
Backend& backendFor(Device d);  // throws RangeErr naming why the device cannot be used

}  // namespace vgg

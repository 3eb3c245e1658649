// The Backend interface: every op of binding.d.ts, implemented once per device (native/cpu, native/cuda).
// The napi layer has already checked dtypes, shapes, devices and layouts when these are called, so a
// backend only checks what depends on its own library (and reports failures as BackendErr).
#pragma once
#include <map>
#include <string>
#include "core/capture.h"
#include "core/errors.h"
#include "core/optim_multi.h"
#include "core/params.h"
#include "core/tensor.h"

namespace vgg {

struct BackendStatus {
  bool compiled = false, available = false;
  std::string description, reason;
  std::map<std::string, std::string> details;
};

// Every op of binding.d.ts, declared once: the Backend interface below and each backend class
// expand it (pure virtual here, `override` in native/cpu and native/cuda).
#define VGG_BACKEND_OPS(VGG_PRE, VGG_POST) \
  /* convolution */ \
  VGG_PRE void conv2dForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, const ConvParams& p, bool fuseRelu) VGG_POST; \
  VGG_PRE void conv2dBackwardData(const Tensor& dy, const Tensor& w, const Tensor& dx, const ConvParams& p) VGG_POST; \
  VGG_PRE void conv2dBackwardFilter(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor* db, const ConvParams& p) VGG_POST; \
 \
  /* pooling */ \
  VGG_PRE size_t maxPool2dWorkspaceSize(const Tensor& x, const Tensor& y, const PoolParams& p) VGG_POST; \
  VGG_PRE void maxPool2dForward(const Tensor& x, const Tensor& y, const Tensor* ws, const PoolParams& p) VGG_POST; \
  VGG_PRE void maxPool2dBackward(const Tensor& dy, const Tensor& x, const Tensor& y, const Tensor& ws, const Tensor& dx, const PoolParams& p) VGG_POST; \
 \
  /* linear */ \
  VGG_PRE void linearForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, bool fuseRelu) VGG_POST; \
  VGG_PRE void linearBackward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor* dx, const Tensor& dw, const Tensor* db) VGG_POST; \
 \
  /* elementwise */ \
  VGG_PRE void reluForward(const Tensor& x, const Tensor& y) VGG_POST; \
  VGG_PRE void reluBackward(const Tensor& y, const Tensor& dy, const Tensor& dx) VGG_POST; \
  /* seedTensor (int32 [1], plain, on the op's device, or null): the uint32 seed's bits, read by the op in place of `seed` */ \
  VGG_PRE void dropoutForward(const Tensor& x, const Tensor& mask, const Tensor& y, float p, uint64_t seed, const Tensor* seedTensor) VGG_POST; \
  VGG_PRE void dropoutBackward(const Tensor& dy, const Tensor& mask, const Tensor& dx, float p) VGG_POST; \
  VGG_PRE void axpby(const Tensor& x, const Tensor& y, float alpha, float beta) VGG_POST; \
  VGG_PRE void cast(const Tensor& src, const Tensor& dst) VGG_POST; \
 \
  /* batch norm */ \
  VGG_PRE void batchNorm2dForward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& runningMean, \
                                  const Tensor& runningVar, const Tensor& y, const Tensor& saveMean, const Tensor& saveInvStd, \
                                  const BatchNormParams& p) VGG_POST; \
  /* reluY: the forward's output when it fused a ReLU (dy is then the gradient after the ReLU and is masked by reluY > 0) */ \
  VGG_PRE void batchNorm2dBackward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& saveMean, \
                                   const Tensor& saveInvStd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, float eps, \
                                   const Tensor* reluY) VGG_POST; \
 \
  /* loss and metrics */ \
  VGG_PRE void softmaxCrossEntropy(const Tensor& logits, const Tensor& labels, const Tensor* dlogits, const Tensor& lossAcc, \
                                   float labelSmoothing, bool accumulate) VGG_POST; \
  VGG_PRE void argmax(const Tensor& logits, const Tensor& out) VGG_POST; \
  VGG_PRE void countCorrect(const Tensor& logits, const Tensor& labels, const Tensor& correct, bool accumulate) VGG_POST; \
  VGG_PRE void sumSquares(const Tensor& x, const Tensor& out, bool accumulate) VGG_POST; \
  VGG_PRE void softmax(const Tensor& logits, const Tensor& probs) VGG_POST; \
 \
  /* optimizers */ \
  VGG_PRE void sgdUpdate(const Tensor& param, const Tensor& grad, const Tensor* momentumBuf, const SgdParams& p) VGG_POST; \
  VGG_PRE void adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor* vmax, const AdamParams& p) VGG_POST; \
  VGG_PRE void adagradUpdate(const Tensor& param, const Tensor& grad, const Tensor& sum, const AdagradParams& p) VGG_POST; \
  /* every parameter of a group at once; the step's scalars come from `coeffs` (an OptimCoeffBlob) on the device */ \
  VGG_PRE void optimizerUpdateMulti(const MultiTensorLists& lists, const Tensor& coeffs) VGG_POST; \
 \
  /* data */ \
  /* seedTensor as dropoutForward's: replaces p.seed */ \
  VGG_PRE void loadBatch(const Tensor& dataset, const Tensor& indices, const Tensor& out, const BatchParams& p, const Tensor* seedTensor) VGG_POST; \
  VGG_PRE void gatherLabels(const Tensor& labels, const Tensor& indices, const Tensor& out) VGG_POST;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  virtual BackendStatus status() = 0;

  // memory
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* ptr, size_t bytes) = 0;
  virtual size_t liveBytes() const = 0;
  // The layout activations of this shape and dtype are kept in between layers.
  virtual Layout preferredLayout(const std::vector<int64_t>& shape, DType dtype) const = 0;
  // host <-> device, host data in plain order
  virtual void upload(const Tensor& dst, const void* host) = 0;
  virtual void download(const Tensor& src, void* host) = 0;
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;  // layouts may differ
  virtual void fill(const Tensor& t, float value) = 0;
  // TF32 tensor-core math for fp32 convolutions and GEMMs where the backend has it (CUDA); others
  // compute in full fp32 whatever this says.
  virtual void setTf32(bool on) {}

  // Graph capture (core/capture.h): between begin and end the backend records its ops instead of running
  // them; end instantiates what was recorded. Only the cuda backend has graphs: the cpu backend runs
  // every op as it is called.
  virtual void graphCaptureBegin() { throw RangeErr(std::string("graphCaptureBegin: the ") + deviceName(device()) + " backend has no graphs (CUDA graphs need the cuda backend)"); }
  virtual std::unique_ptr<DeviceGraph> graphCaptureEnd() { throw RangeErr(std::string("graphCaptureEnd: the ") + deviceName(device()) + " backend has no graphs (CUDA graphs need the cuda backend)"); }
  // Ends a capture that failed part way and discards it; does nothing when none is running.
  virtual void graphCaptureAbort() {}

  VGG_BACKEND_OPS(virtual, = 0)
};

// The process-wide backends. cpuBackend() always exists; cudaBackend() exists when compiled in
// (its status() says whether it can run here).
Backend& cpuBackend();
Backend* cudaBackend();  // nullptr when not compiled
Backend& backendFor(Device d);  // throws RangeErr naming why the device cannot be used

}  // namespace vgg

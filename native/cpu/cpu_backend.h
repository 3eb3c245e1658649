// The CPU backend: oneDNN primitives (conv, pooling, batchnorm, matmul), cached per shape, plus OpenMP
// loops for the elementwise ops. Methods are defined one op family per file (conv.cc, pool.cc, ...).
#pragma once
#include <atomic>
#include <dnnl.hpp>
#include <mutex>
#include "core/backend.h"
#include "core/errors.h"

namespace vgg {

class CpuBackend final : public Backend {
 public:
  CpuBackend();
  Device device() const override { return Device::cpu; }
  BackendStatus status() override;

  void* allocate(size_t bytes) override;
  void release(void* ptr, size_t bytes) override;
  size_t liveBytes() const override { return live_.load(); }
  Layout preferredLayout(const std::vector<int64_t>& shape) const override;
  void upload(const Tensor& dst, const void* host) override;
  void download(const Tensor& src, void* host) override;
  void copy(const Tensor& src, const Tensor& dst) override;
  void fill(const Tensor& t, float value) override;

  void conv2dForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, const ConvParams& p, bool fuseRelu) override;
  void conv2dBackwardData(const Tensor& dy, const Tensor& w, const Tensor& dx, const ConvParams& p) override;
  void conv2dBackwardFilter(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor* db, const ConvParams& p) override;

  size_t maxPool2dWorkspaceSize(const Tensor& x, const Tensor& y, const PoolParams& p) override;
  void maxPool2dForward(const Tensor& x, const Tensor& y, const Tensor* ws, const PoolParams& p) override;
  void maxPool2dBackward(const Tensor& dy, const Tensor& x, const Tensor& y, const Tensor& ws, const Tensor& dx, const PoolParams& p) override;

  void linearForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, bool fuseRelu) override;
  void linearBackward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor* dx, const Tensor& dw, const Tensor* db) override;

  void reluForward(const Tensor& x, const Tensor& y) override;
  void reluBackward(const Tensor& y, const Tensor& dy, const Tensor& dx) override;
  void dropoutForward(const Tensor& x, const Tensor& mask, const Tensor& y, float p, uint64_t seed) override;
  void dropoutBackward(const Tensor& dy, const Tensor& mask, const Tensor& dx, float p) override;
  void axpby(const Tensor& x, const Tensor& y, float alpha, float beta) override;

  void batchNorm2dForward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& runningMean, const Tensor& runningVar,
                          const Tensor& y, const Tensor& saveMean, const Tensor& saveInvStd, const BatchNormParams& p) override;
  void batchNorm2dBackward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& saveMean, const Tensor& saveInvStd,
                           const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, float eps) override;

  void softmaxCrossEntropy(const Tensor& logits, const Tensor& labels, const Tensor* dlogits, const Tensor& lossAcc,
                           float labelSmoothing, bool accumulate) override;
  void argmax(const Tensor& logits, const Tensor& out) override;
  void countCorrect(const Tensor& logits, const Tensor& labels, const Tensor& correct, bool accumulate) override;
  void sumSquares(const Tensor& x, const Tensor& out, bool accumulate) override;
  void softmax(const Tensor& logits, const Tensor& probs) override;

  void sgdUpdate(const Tensor& param, const Tensor& grad, const Tensor* momentumBuf, const SgdParams& p) override;
  void adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor* vmax, const AdamParams& p) override;
  void adagradUpdate(const Tensor& param, const Tensor& grad, const Tensor& sum, const AdagradParams& p) override;

  void loadBatch(const Tensor& dataset, const Tensor& indices, const Tensor& out, const BatchParams& p) override;
  void gatherLabels(const Tensor& labels, const Tensor& indices, const Tensor& out) override;

  dnnl::engine& engine() { return engine_; }
  dnnl::stream& stream() { return stream_; }

 private:
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::atomic<size_t> live_{0};
};

CpuBackend& cpu();

// oneDNN helpers shared by the op files.
dnnl::memory::desc mdOf(const Tensor& t);  // the tensor's own descriptor (its layout)
dnnl::memory memOf(const Tensor& t, const dnnl::memory::desc& md);
dnnl::memory memOf(const Tensor& t);
// Runs f, turning dnnl::error into BackendErr naming the op.
template <class F>
void dnnlCall(const char* op, const char* call, F&& f) {
  try {
    f();
  } catch (const dnnl::error& e) {
    throw BackendErr(op, call, std::string(e.what()) + " (status " + std::to_string((int)e.status) + ")");
  }
}

}  // namespace vgg

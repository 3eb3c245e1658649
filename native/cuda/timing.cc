// CUDA timing events for the profiler (core/timing.h): one pool per thread (a training worker and the
// main thread may both profile), recorded on the backend's one stream, created once and reused by every
// window. Elapsed times are summed between neighbouring events: cudaEventElapsedTime is a float in ms, and
// the short differences keep their ~0.5 us resolution where long ones from the first event would not.
#include <cuda_runtime_api.h>
#include <string>
#include "core/capture.h"
#include "core/errors.h"
#include "core/timing.h"
#include "cuda/cuda_backend.h"

namespace vgg {

namespace {

class CudaTiming final : public DeviceTiming {
 public:
  ~CudaTiming() override {
    // At thread or process exit the runtime may already be unloading: nothing to report to, so the
    // statuses are ignored here (every other call is checked).
    for (cudaEvent_t e : pool_) cudaEventDestroy(e);
  }

  size_t mark(const char* op) override {
    requireNotCapturing(op, "a timing mark (a graph replays its ops as one launch: profile without graphs)");
    if (used_ >= kMaxTimingMarks)
      throw RangeErr(std::string(op) + ": " + std::to_string(used_) + " marks since the last timingRead; read them first");
    cudaStream_t stream = cuda().ctx(op).stream;
    if (used_ == pool_.size()) {
      cudaEvent_t e = nullptr;
      checkCuda(cudaEventCreateWithFlags(&e, cudaEventDefault), op, "cudaEventCreateWithFlags");
      pool_.push_back(e);
    }
    checkCuda(cudaEventRecord(pool_[used_], stream), op, "cudaEventRecord");
    return used_++;
  }

  std::vector<double> read(const char* op) override {
    requireNotCapturing(op, "reading timing marks (a synchronization)");
    size_t n = used_;
    used_ = 0;  // forgotten even when a status below fails: the next window starts clean
    std::vector<double> t(n, 0.0);
    if (n == 0) return t;
    checkCuda(cudaEventSynchronize(pool_[n - 1]), op, "cudaEventSynchronize");
    for (size_t i = 1; i < n; i++) {
      float ms = 0.0f;
      checkCuda(cudaEventElapsedTime(&ms, pool_[i - 1], pool_[i]), op, "cudaEventElapsedTime");
      t[i] = t[i - 1] + ms;
    }
    return t;
  }

 private:
  std::vector<cudaEvent_t> pool_;
  size_t used_ = 0;
};

}  // namespace

DeviceTiming* cudaTiming() {
  thread_local CudaTiming timing;
  return &timing;
}

}  // namespace vgg

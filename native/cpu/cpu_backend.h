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
  Layout preferredLayout(const std::vector<int64_t>& shape, DType dtype) const override;
  void upload(const Tensor& dst, const void* host) override;
  void download(const Tensor& src, void* host) override;
  void copy(const Tensor& src, const Tensor& dst) override;
  void fill(const Tensor& t, float value) override;

  VGG_BACKEND_OPS(, override)

  dnnl::engine& engine() { return engine_; }
  dnnl::stream& stream() { return stream_; }

 private:
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::atomic<size_t> live_{0};
};

CpuBackend& cpu();

// oneDNN helpers shared by the op files.
// True when oneDNN runs AMX kernels here (DNNL_MAX_CPU_ISA can cap it): some bf16 convolutions route
// around its slow AMX direct kernels. Whether bf16 beats fp32 at all is measured (lib/bf16-speed.ts).
inline bool amxKernels() { return dnnl::get_effective_cpu_isa() == dnnl::cpu_isa::avx512_core_amx; }
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

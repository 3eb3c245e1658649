// Argument checks of the profiler's timing events (see binding.d.ts): a device name, which must be
// 'cuda' (the CPU's ops are synchronous: lib/profile times them with the host clock).
#include <atomic>
#include "core/backend.h"
#include "core/timing.h"
#include "napi/args.h"

namespace vgg {

static DeviceTiming& timingFor(Args& a) {
  Device d = deviceArg(a, 0);
  if (d == Device::cpu)
    a.rangeError("timing events are for 'cuda'; the cpu backend's ops are synchronous, so time them on the host (performance.now())");
  // Checked once: a mark is made twice per profiled op, and backendFor copies the backend's status.
  static std::atomic<bool> usable{false};
  if (!usable.load(std::memory_order_relaxed)) {
    try {
      backendFor(d);
    } catch (const RangeErr& e) {
      a.rangeError(e.what());  // why CUDA is not compiled in or cannot run here, under the op's name
    }
    usable = true;
  }
  DeviceTiming* t = cudaTiming();
  if (!t) a.rangeError("the cuda backend is not compiled into this addon");
  return *t;
}

static Napi::Value timingMark(const Napi::CallbackInfo& info) {
  Args a(info, "timingMark", 1, 1);
  return Napi::Number::New(info.Env(), (double)timingFor(a).mark(a.op()));
}

static Napi::Value timingRead(const Napi::CallbackInfo& info) {
  Args a(info, "timingRead", 1, 1);
  std::vector<double> t = timingFor(a).read(a.op());
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), t.size());
  for (size_t i = 0; i < t.size(); i++) out[i] = t[i];
  return out;
}

void registerTiming(Napi::Env env, Napi::Object exports) {
  VGG_EXPORT(exports, "timingMark", timingMark);
  VGG_EXPORT(exports, "timingRead", timingRead);
}

}  // namespace vgg

// Timing events for the profiler (lib/profile): marks recorded on a device's stream between ops, read
// back after one synchronization at the end of a profiled window, so profiling never syncs per op.
// CUDA only: the CPU backend's ops are synchronous and lib/profile times them with the host clock.
#pragma once
#include <cstddef>
#include <vector>

namespace vgg {

class DeviceTiming {
 public:
  virtual ~DeviceTiming() = default;
  // Records an event after the work queued so far, without waiting; returns its index since the last read().
  virtual size_t mark(const char* op) = 0;
  // Waits for the last mark, then returns each mark's time in ms after the first (the first is 0; empty
  // when nothing was marked) and forgets the marks. The events stay pooled for the next window.
  virtual std::vector<double> read(const char* op) = 0;
};

// Marks beyond this many between two reads are refused (RangeErr): a window that forgot to read.
constexpr size_t kMaxTimingMarks = size_t(1) << 22;

// The calling thread's timing events on the CUDA backend's stream; nullptr when CUDA is not compiled in.
DeviceTiming* cudaTiming();

}  // namespace vgg

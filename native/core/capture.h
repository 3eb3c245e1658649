// What the device-agnostic layers (core, napi) must do while a backend captures a graph of its ops (CUDA
// graphs): a graph is replayed long after the JS calls that built it, against whatever the tensors hold
// then. So, for as long as the graph exists,
// - every storage an op reads or writes during the capture stays allocated (the graph keeps it), even if
//   the JS side disposes the tensor;
// - every storage an op writes is remembered, and each replay bumps its version as the op calls would have:
//   caches of derived data (bf16 weight copies in lib/, KRSC filter copies) then see the change;
// - buffers an op borrows from its backend (workspace, pointer tables, filter copies) are retained;
// - work that cannot be captured (host transfers, allocation, algorithm searches, host syncs) is refused
//   with a RangeError naming the op, and caches of derived data refresh once per capture (what is fresh
//   now is stale at a later replay), see CaptureLog::id.
// One capture at a time per process: while it runs, the backend's stream belongs to it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>
#include "core/tensor.h"

namespace vgg {

struct CaptureLog {
  uint64_t id = 0;  // distinct for every capture of the process (never 0)
  std::vector<std::shared_ptr<Storage>> used;
  std::vector<std::shared_ptr<Storage>> written;
  std::vector<std::shared_ptr<void>> retained;
  std::unordered_set<const Storage*> usedSet, writtenSet;
  // Frees asked for while capturing (a garbage-collected tensor, a disposed graph): cudaFree and stream
  // syncs are not allowed then, so they happen when the capture ends.
  std::vector<std::shared_ptr<void>> deferred;
};

// The capture in progress, or nullptr.
CaptureLog* activeCapture();
// Called by a backend around its capture (beginCaptureLog returns the new log's id).
uint64_t beginCaptureLog();
std::unique_ptr<CaptureLog> endCaptureLog();

// napi: a tensor handed to an op; Tensor::touch: a storage an op wrote.
void noteUsed(const std::shared_ptr<Storage>& s);
void noteWritten(const std::shared_ptr<Storage>& s);
// A backend buffer the captured work reads or writes: kept until the graph is destroyed.
void retainWhileCaptured(std::shared_ptr<void> buffer);
// Holds `x` until the running capture ends, then drops it; drops it at once when none runs.
void releaseAfterCapture(std::shared_ptr<void> x);
// Throws RangeErr "<op>: <what> cannot be captured in a CUDA graph ..." while a capture runs.
void requireNotCapturing(const char* op, const char* what);
// The running capture's id, 0 when none: a cache of derived data refreshes when its entry was last
// refreshed in another capture (or eagerly) and a capture is running.
uint64_t captureId();

// A captured and instantiated graph of one backend.
class DeviceGraph {
 public:
  virtual ~DeviceGraph() = default;
  // Replays the captured work on the backend's stream (asynchronously) and bumps the versions of what it writes.
  virtual void launch() = 0;
  virtual size_t nodes() const = 0;
  virtual Device device() const = 0;
};

}  // namespace vgg

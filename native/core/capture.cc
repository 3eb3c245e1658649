#include "core/capture.h"
#include <atomic>
#include "core/errors.h"

namespace vgg {

namespace {
std::atomic<CaptureLog*> active{nullptr};
std::atomic<uint64_t> lastId{0};
}  // namespace

CaptureLog* activeCapture() { return active.load(std::memory_order_acquire); }

uint64_t beginCaptureLog() {
  auto* log = new CaptureLog();
  log->id = ++lastId;
  CaptureLog* none = nullptr;
  if (!active.compare_exchange_strong(none, log)) {
    delete log;
    throw RangeErr("graphCaptureBegin: a capture is already running (end or abort it first)");
  }
  return log->id;
}

std::unique_ptr<CaptureLog> endCaptureLog() { return std::unique_ptr<CaptureLog>(active.exchange(nullptr)); }

void noteUsed(const std::shared_ptr<Storage>& s) {
  CaptureLog* c = activeCapture();
  if (c && s && c->usedSet.insert(s.get()).second) c->used.push_back(s);
}

void noteWritten(const std::shared_ptr<Storage>& s) {
  CaptureLog* c = activeCapture();
  if (!c || !s) return;
  noteUsed(s);
  if (c->writtenSet.insert(s.get()).second) c->written.push_back(s);
}

void retainWhileCaptured(std::shared_ptr<void> buffer) {
  if (CaptureLog* c = activeCapture()) c->retained.push_back(std::move(buffer));
}

void releaseAfterCapture(std::shared_ptr<void> x) {
  if (CaptureLog* c = activeCapture()) c->deferred.push_back(std::move(x));
}

void requireNotCapturing(const char* op, const char* what) {
  if (!activeCapture()) return;
  throw RangeErr(std::string(op) + ": " + what + " cannot be captured in a CUDA graph (run the step once eagerly before capturing it)");
}

uint64_t captureId() {
  CaptureLog* c = activeCapture();
  return c ? c->id : 0;
}

}  // namespace vgg

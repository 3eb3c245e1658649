// CUDA graphs of the backend's stream (core/capture.h): capture, instantiate, replay. A graph keeps what
// it read and wrote (storages, workspace, pointer tables, filter copies) until it is destroyed, and each
// replay bumps the versions of the storages it writes, as the op calls it stands for would have.
#include "core/capture.h"
#include "cuda/cuda_backend.h"

namespace vgg {

namespace {

class CudaGraph final : public DeviceGraph {
 public:
  CudaGraph(cudaGraph_t g, cudaGraphExec_t e, size_t nodes, std::unique_ptr<CaptureLog> log)
      : graph_(g), exec_(e), nodes_(nodes), log_(std::move(log)) {
    cuda().graphsAlive(+1);
  }
  ~CudaGraph() override {
    // A replay may still be running: what it uses is released only after it is done.
    cudaStreamSynchronize(cuda().ctx("graphDispose").stream);
    cudaGraphExecDestroy(exec_);
    cudaGraphDestroy(graph_);
    log_.reset();
    cuda().graphsAlive(-1);
  }
  void launch() override {
    const char* op = "graphLaunch";
    requireNotCapturing(op, "launching a graph");
    checkCuda(cudaGraphLaunch(exec_, cuda().ctx(op).stream), op, "cudaGraphLaunch");
    for (const auto& s : log_->written) s->version++;
  }
  size_t nodes() const override { return nodes_; }
  Device device() const override { return Device::cuda; }

 private:
  cudaGraph_t graph_;
  cudaGraphExec_t exec_;
  size_t nodes_;
  std::unique_ptr<CaptureLog> log_;
};

}  // namespace

void CudaBackend::graphCaptureBegin() {
  const char* op = "graphCaptureBegin";
  Context& c = ctx(op);
  beginCaptureLog();  // throws when a capture is already running
  // Thread-local: a cudaMalloc or a sync on this thread fails the capture (we refuse those first, with
  // a message); other threads are not affected.
  cudaError_t e = cudaStreamBeginCapture(c.stream, cudaStreamCaptureModeThreadLocal);
  if (e != cudaSuccess) {
    endCaptureLog();
    checkCuda(e, op, "cudaStreamBeginCapture");
  }
}

std::unique_ptr<DeviceGraph> CudaBackend::graphCaptureEnd() {
  const char* op = "graphCaptureEnd";  // napi/graph.cc has checked that a capture is running
  Context& c = ctx(op);
  cudaGraph_t g = nullptr;
  cudaError_t e = cudaStreamEndCapture(c.stream, &g);
  std::unique_ptr<CaptureLog> log = endCaptureLog();
  log->deferred.clear();  // the frees asked for while capturing
  if (e != cudaSuccess || !g) {
    if (g) cudaGraphDestroy(g);
    checkCuda(e != cudaSuccess ? e : cudaErrorStreamCaptureInvalidated, op, "cudaStreamEndCapture");
  }
  size_t nodes = 0;
  cudaGraphGetNodes(g, nullptr, &nodes);
  cudaGraphExec_t exec = nullptr;
  e = cudaGraphInstantiate(&exec, g, 0);
  if (e != cudaSuccess) {
    cudaGraphDestroy(g);
    checkCuda(e, op, "cudaGraphInstantiate");
  }
  return std::make_unique<CudaGraph>(g, exec, nodes, std::move(log));
}

void CudaBackend::graphCaptureAbort() {
  if (!activeCapture()) return;
  cudaStreamCaptureStatus st = cudaStreamCaptureStatusNone;
  if (initDone_.load() && cudaStreamIsCapturing(ctx_.stream, &st) == cudaSuccess && st != cudaStreamCaptureStatusNone) {
    cudaGraph_t g = nullptr;
    cudaStreamEndCapture(ctx_.stream, &g);  // invalidated captures end with an error and no graph
    if (g) cudaGraphDestroy(g);
  }
  cudaGetLastError();
  endCaptureLog();  // and with it the frees asked for while capturing
}

}  // namespace vgg

// Convolution through cuDNN's legacy API: descriptors and algorithms found once per shape (Find*Ex,
// which times the real algorithms on the real buffers) and cached; bias and ReLU as our own kernels.
//
// float32 runs NCHW (cuDNN's fastest fp32 kernels here), FMA math unless TF32 is on. bfloat16 runs NHWC
// with KRSC filters, compute in fp32 (cuDNN's PSEUDO_BFLOAT16_CONFIG) and tensor-op math: its tensor-core
// kernels want x, w and y in one format, as PyTorch's channels_last gives them. Operands stored otherwise
// (plain bf16, such as the first layer's input; OIHW weights; nhwc fp32) are staged through the backend's
// scratch buffer, so every call of one dtype sees one format, except the weights' KRSC copies, which are
// kept per weight storage and version (krscFilter): the forward and backward-data of one step share one
// transpose. A bf16 convolution cuDNN has no NHWC algorithm for runs in bf16 NCHW instead (withMode).
#include <cstdlib>
#include <map>
#include <set>
#include <memory>
#include "core/capture.h"
#include "cuda/cuda_backend.h"

namespace vgg {

namespace {

// The algorithm Find*Ex chose for one direction of one plan.
template <class Perf, int Count>
struct Choice {
  bool found = false;
  decltype(Perf::algo) algo{};
  cu::cudnnMathType_t math{};
  size_t wsBytes = 0;
};

struct ConvPlan {
  cu::cudnnTensorDescriptor_t xD = nullptr, yD = nullptr;
  cu::cudnnFilterDescriptor_t wD = nullptr;
  cu::cudnnConvolutionDescriptor_t cD = nullptr;
  Choice<cu::cudnnConvolutionFwdAlgoPerf_t, cu::CUDNN_CONVOLUTION_FWD_ALGO_COUNT> fwd;
  Choice<cu::cudnnConvolutionBwdDataAlgoPerf_t, cu::CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT> bwdData;
  Choice<cu::cudnnConvolutionBwdFilterAlgoPerf_t, cu::CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT> bwdFilter;
};

// The dtype of a call's activations and the storage format it runs in (see the top of this file).
struct Mode {
  DType dt;
  bool nhwc;
};
Mode modeFor(DType activations) { return {activations, activations == DType::bf16}; }

// Tensor cores for bf16 (its products are exact in fp32, so they cost no accuracy); TF32 only when asked.
bool anyMath(Mode m) { return m.dt == DType::bf16 || cuda().tf32(); }
// FMA math keeps fp32 exact on Ampere and later (DEFAULT_MATH there allows TF32).
cu::cudnnMathType_t searchMath(Mode m) {
  if (m.dt == DType::bf16) return cu::CUDNN_TENSOR_OP_MATH;
  return cuda().tf32() ? cu::CUDNN_DEFAULT_MATH : cu::CUDNN_FMA_MATH;
}

std::mutex plansMu;
std::map<std::string, std::unique_ptr<ConvPlan>> plans;

ConvPlan& planFor(const char* op, const std::vector<int64_t>& x, const std::vector<int64_t>& w, const std::vector<int64_t>& y,
                  const ConvParams& p, Mode m) {
  std::string key = shapeString(x) + shapeString(w) + shapeString(y) + "/" + std::to_string(p.strideH) + "," + std::to_string(p.strideW) +
                    "," + std::to_string(p.padH) + "," + std::to_string(p.padW) + "/" + dtypeName(m.dt) + (m.nhwc ? "/nhwc" : "/nchw") +
                    (anyMath(m) ? "/tensor-op" : "/fma");
  std::lock_guard<std::mutex> lock(plansMu);
  auto it = plans.find(key);
  if (it != plans.end()) return *it->second;
  auto plan = std::make_unique<ConvPlan>();
  ConvPlan& P = *plan;
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &P.xD);
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &P.yD);
  VGG_CUDNN_CALL(op, cudnnCreateFilterDescriptor, &P.wD);
  VGG_CUDNN_CALL(op, cudnnCreateConvolutionDescriptor, &P.cD);
  setTensor4d(op, P.xD, x, m.dt, m.nhwc);
  setTensor4d(op, P.yD, y, m.dt, m.nhwc);
  // For filters, NHWC means KRSC; dims are given as K, C, R, S either way.
  VGG_CUDNN_CALL(op, cudnnSetFilter4dDescriptor, P.wD, dnnType(m.dt), m.nhwc ? cu::CUDNN_TENSOR_NHWC : cu::CUDNN_TENSOR_NCHW, (int)w[0],
                 (int)w[1], (int)w[2], (int)w[3]);
  // Compute type FLOAT for both dtypes: fp32 accumulation (for bf16 data, PSEUDO_BFLOAT16_CONFIG).
  VGG_CUDNN_CALL(op, cudnnSetConvolution2dDescriptor, P.cD, p.padH, p.padW, p.strideH, p.strideW, 1, 1, cu::CUDNN_CROSS_CORRELATION,
                 cu::CUDNN_DATA_FLOAT);
  plans[key] = std::move(plan);
  return P;
}

// The fastest successful result that fits the workspace; for fp32 with TF32 off, only FMA-math results.
template <class Perf>
const Perf* pick(const Perf* r, int n, size_t cap, bool anyMathType) {
  for (int i = 0; i < n; i++) {
    if (r[i].status != cu::CUDNN_STATUS_SUCCESS || r[i].memory > cap) continue;
    if (!anyMathType && r[i].mathType != cu::CUDNN_FMA_MATH && r[i].mathType != cu::CUDNN_DEFAULT_MATH) continue;
    return &r[i];
  }
  return nullptr;
}

// cuDNN has no algorithm for this convolution in this format (Find*Ex refused it, or none of its
// results succeeded); withMode() may retry it in another format.
struct NoAlgorithm : BackendErr {
  using BackendErr::BackendErr;
};

[[noreturn]] void noAlgorithm(const char* op, const char* call, int n) {
  throw NoAlgorithm(op, call, "no algorithm succeeded within the " + std::to_string(convWorkspaceLimit() >> 20) + " MiB workspace (" +
                                  std::to_string(n) + " tried; VGG_CIFAR_CUDNN_WORKSPACE_MB raises it)");
}

// One direction of a convolution: on the plan's first call, `find(results, count, &returned, ws, cap)`
// (a Find*Ex) chooses the algorithm; then `run(algo, ws, wsBytes)` runs it. Both return cuDNN's status.
template <class Perf, int Count, class Find, class Run>
void convolve(const char* op, const char* findCall, const char* runCall, ConvPlan& P, Choice<Perf, Count>& ch, Mode m, Find&& find,
              Run&& run) {
  if (!ch.found) {
    requireNotCapturing(op, "finding a convolution algorithm (cudnnFind*AlgorithmEx runs and times candidates)");
    VGG_CUDNN_CALL(op, cudnnSetConvolutionMathType, P.cD, searchMath(m));
    size_t cap = convWorkspaceLimit();
    void* ws = cuda().workspace(op, cap);
    Perf r[Count];
    int n = 0;
    cu::cudnnStatus_t s = find(r, Count, &n, ws, cap);
    if (cudnnRefused(s)) noAlgorithm(op, findCall, 0);
    checkCudnn(s, op, findCall);
    const Perf* best = pick(r, n, cap, anyMath(m));
    if (!best) noAlgorithm(op, findCall, n);
    ch.algo = best->algo;
    ch.math = anyMath(m) ? best->mathType : cu::CUDNN_FMA_MATH;
    ch.wsBytes = best->memory;
    ch.found = true;
  }
  VGG_CUDNN_CALL(op, cudnnSetConvolutionMathType, P.cD, ch.math);
  void* ws = cuda().workspace(op, ch.wsBytes);
  checkCudnn(run(ch.algo, ws, ch.wsBytes), op, runCall);
}

// Convolutions (op and shapes) whose bf16 NHWC form cuDNN had no algorithm for; they run in bf16 NCHW.
std::set<std::string> nchwBf16;  // under plansMu

// Runs body(mode) in the activations' mode. A bf16 NHWC convolution cuDNN's legacy API has no
// algorithm for (possible with channel counts that are not multiples of 8, such as the 3-channel first
// layer) runs, from then on, in bf16 NCHW: the same data through the staging copies, no tensor-core
// layout, still bf16. Nothing has been written to the output when NoAlgorithm is thrown (Find*Ex only
// uses the output as scratch), so the retry starts clean.
template <class Body>
void withMode(const char* op, DType dt, const std::vector<int64_t>& a, const std::vector<int64_t>& w, Body&& body) {
  Mode m = modeFor(dt);
  const std::string key = std::string(op) + shapeString(a) + shapeString(w);
  if (m.nhwc) {
    std::lock_guard<std::mutex> lock(plansMu);
    if (nchwBf16.count(key)) m.nhwc = false;
  }
  try {
    body(m);
  } catch (const NoAlgorithm& e) {
    if (!m.nhwc) throw;
    {
      std::lock_guard<std::mutex> lock(plansMu);
      nchwBf16.insert(key);
    }
    noteFallback(op, e.what(), "bf16 NCHW");
    body(Mode{dt, false});
  }
}

// ---------- staging operands into the call's format ----------

bool staged(const Tensor& t, Mode m) { return (t.layout == Layout::nhwc) != m.nhwc; }
size_t stageBytes(const Tensor& t, Mode m) { return staged(t, m) ? t.bytes() : 0; }

// KRSC copies of plain OIHW weights for NHWC runs, one per weight storage, redone when its version
// changes (a cast of the master weights or an optimizer step bumps it). Copies of freed storages are
// dropped at the next miss; like the workspace, this memory is the backend's own (not in liveBytes).
// A capture redoes the copy on its first use: fresh now says nothing about the weights at a replay.
struct FilterCopy {
  std::weak_ptr<Storage> owner;
  uint64_t version = 0;
  uint64_t capture = 0;                // the capture that last redid it (0: eagerly)
  std::shared_ptr<void> data;          // a graph that reads it keeps it
  size_t bytes = 0;
};
std::mutex filtersMu;
std::map<const Storage*, FilterCopy> filters;

void dropFilter(FilterCopy& f) {
  f.data.reset();  // cudaFree synchronizes: queued convolutions reading it are done
  f.bytes = 0;
}

const void* krscFilter(const char* op, const Tensor& w, cudaStream_t s) {
  std::lock_guard<std::mutex> lock(filtersMu);
  uint64_t capture = captureId();
  auto it = filters.find(w.storage.get());
  if (it != filters.end() && it->second.owner.lock() == w.storage && it->second.version == w.storage->version &&
      it->second.bytes == w.bytes() && it->second.capture == capture) {
    retainWhileCaptured(it->second.data);
    return it->second.data.get();
  }
  // cudaFree cannot run inside a capture: dead copies wait for the next eager miss.
  for (auto i = filters.begin(); capture == 0 && i != filters.end();) {
    if (i->second.owner.expired()) {
      dropFilter(i->second);
      i = filters.erase(i);
    } else {
      ++i;
    }
  }
  FilterCopy& f = filters[w.storage.get()];
  if (f.owner.lock() != w.storage || f.bytes != w.bytes()) {
    requireNotCapturing(op, "allocating a KRSC copy of the weights");
    dropFilter(f);
  }
  if (!f.data) {
    requireNotCapturing(op, "allocating a KRSC copy of the weights");
    f.data = deviceBuffer(op, w.bytes(), "cudaMalloc (KRSC weights)");
    f.bytes = w.bytes();
  }
  f.owner = w.storage;
  f.version = w.storage->version;
  f.capture = capture;
  retainWhileCaptured(f.data);
  launchTranspose(op, w.data(), f.data.get(), w.shape, true, dtypeSize(w.dtype), s);
  return f.data.get();
}

// The weights in the call's format: w itself (OIHW) for NCHW runs, its KRSC copy for NHWC ones.
const void* filterIn(const char* op, const Tensor& w, Mode m, cudaStream_t s) { return m.nhwc ? krscFilter(op, w, s) : w.data(); }

// An input in the call's format: t itself, or its copy in `slot` (non-null exactly when t needs one).
const void* stageIn(const char* op, const Tensor& t, void* slot, Mode m, cudaStream_t s) {
  if (!slot) return t.data();
  launchTranspose(op, t.data(), slot, t.shape, m.nhwc, dtypeSize(t.dtype), s);
  return slot;
}
// Where an output is written in the call's format; finishOut then moves it into t.
void* stageOut(const Tensor& t, void* slot) { return slot ? slot : t.data(); }
void finishOut(const char* op, const Tensor& t, void* slot, Mode m, cudaStream_t s) {
  if (slot) launchTranspose(op, slot, t.data(), t.shape, !m.nhwc, dtypeSize(t.dtype), s);
}

const float kOne = 1.0f, kZero = 0.0f;

}  // namespace

// Algorithms that need more are skipped.
size_t convWorkspaceLimit() {
  static size_t bytes = [] {
    const char* v = std::getenv("VGG_CIFAR_CUDNN_WORKSPACE_MB");
    long mb = v ? std::atol(v) : 0;
    return (size_t)(mb > 0 ? mb : 512) << 20;
  }();
  return bytes;
}

void CudaBackend::conv2dForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, const ConvParams& p, bool fuseRelu) {
  const char* op = "conv2dForward";
  requireActivation(op, {&x, &w, &y});
  Context& c = ctx(op);
  // VGG_CIFAR_CUDA_CONV=fused: convolution, bias and ReLU as one cuDNN graph (conv_fused.cc) where it takes the plan.
  const bool tryFused = b && convPath() == ConvPath::fused;
  bool fused = false;
  withMode(op, x.dtype, x.shape, w.shape, [&](Mode m) {
    ConvPlan& P = planFor(op, x.shape, w.shape, y.shape, p, m);
    const void* ws = filterIn(op, w, m, c.stream);
    std::vector<void*> slot = scratchSlices(op, {stageBytes(x, m), stageBytes(y, m)});
    const void* xs = stageIn(op, x, slot[0], m, c.stream);
    void* ys = stageOut(y, slot[1]);
    fused = tryFused && fusedConvForward(op, {x.shape, w.shape, y.shape, p, m.dt, m.nhwc, xs, ws, b->as<float>(), ys, fuseRelu});
    if (fused) return finishOut(op, y, slot[1], m, c.stream);
    convolve(
        op, "cudnnFindConvolutionForwardAlgorithmEx", "cudnnConvolutionForward", P, P.fwd, m,
        [&](cu::cudnnConvolutionFwdAlgoPerf_t* r, int count, int* n, void* work, size_t cap) {
          return dnn().cudnnFindConvolutionForwardAlgorithmEx(c.dnn, P.xD, xs, P.wD, ws, P.cD, P.yD, ys, count, n, r, work, cap);
        },
        [&](cu::cudnnConvolutionFwdAlgo_t algo, void* work, size_t bytes) {
          return dnn().cudnnConvolutionForward(c.dnn, &kOne, P.xD, xs, P.wD, ws, P.cD, algo, work, bytes, &kZero, P.yD, ys);
        });
    finishOut(op, y, slot[1], m, c.stream);
  });
  if (!fused && (b || fuseRelu)) launchBiasAct(op, y.data(), y.dtype, b ? b->as<float>() : nullptr, channelView(y), fuseRelu, c.stream);
}

void CudaBackend::conv2dBackwardData(const Tensor& dy, const Tensor& w, const Tensor& dx, const ConvParams& p) {
  const char* op = "conv2dBackwardData";
  requireActivation(op, {&dy, &w, &dx});
  Context& c = ctx(op);
  withMode(op, dy.dtype, dx.shape, w.shape, [&](Mode m) {
    ConvPlan& P = planFor(op, dx.shape, w.shape, dy.shape, p, m);
    const void* ws = filterIn(op, w, m, c.stream);
    std::vector<void*> slot = scratchSlices(op, {stageBytes(dy, m), stageBytes(dx, m)});
    const void* dys = stageIn(op, dy, slot[0], m, c.stream);
    void* dxs = stageOut(dx, slot[1]);
    convolve(
        op, "cudnnFindConvolutionBackwardDataAlgorithmEx", "cudnnConvolutionBackwardData", P, P.bwdData, m,
        [&](cu::cudnnConvolutionBwdDataAlgoPerf_t* r, int count, int* n, void* work, size_t cap) {
          return dnn().cudnnFindConvolutionBackwardDataAlgorithmEx(c.dnn, P.wD, ws, P.yD, dys, P.cD, P.xD, dxs, count, n, r, work, cap);
        },
        [&](cu::cudnnConvolutionBwdDataAlgo_t algo, void* work, size_t bytes) {
          return dnn().cudnnConvolutionBackwardData(c.dnn, &kOne, P.wD, ws, P.yD, dys, P.cD, algo, work, bytes, &kZero, P.xD, dxs);
        });
    finishOut(op, dx, slot[1], m, c.stream);
  });
}

void CudaBackend::conv2dBackwardFilter(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor* db, const ConvParams& p) {
  const char* op = "conv2dBackwardFilter";
  requireActivation(op, {&x, &dy, &dw});
  Context& c = ctx(op);
  withMode(op, x.dtype, x.shape, dw.shape, [&](Mode m) {
    ConvPlan& P = planFor(op, x.shape, dw.shape, dy.shape, p, m);
    // cuDNN writes dw in the activations' dtype and the call's format; an fp32 or OIHW dw is converted after.
    bool direct = !m.nhwc && dw.dtype == m.dt;
    std::vector<void*> slot =
        scratchSlices(op, {stageBytes(x, m), stageBytes(dy, m), direct ? 0 : (size_t)dw.numel() * dtypeSize(m.dt)});
    const void* xs = stageIn(op, x, slot[0], m, c.stream);
    const void* dys = stageIn(op, dy, slot[1], m, c.stream);
    void* dws = direct ? dw.data() : slot[2];
    convolve(
        op, "cudnnFindConvolutionBackwardFilterAlgorithmEx", "cudnnConvolutionBackwardFilter", P, P.bwdFilter, m,
        [&](cu::cudnnConvolutionBwdFilterAlgoPerf_t* r, int count, int* n, void* work, size_t cap) {
          return dnn().cudnnFindConvolutionBackwardFilterAlgorithmEx(c.dnn, P.xD, xs, P.yD, dys, P.cD, P.wD, dws, count, n, r, work, cap);
        },
        [&](cu::cudnnConvolutionBwdFilterAlgo_t algo, void* work, size_t bytes) {
          return dnn().cudnnConvolutionBackwardFilter(c.dnn, &kOne, P.xD, xs, P.yD, dys, P.cD, algo, work, bytes, &kZero, P.wD, dws);
        });
    if (!direct) launchConvert(op, dws, m.dt, m.nhwc, dw.data(), dw.dtype, false, dw.shape, c.stream);
  });
  if (db) launchBiasGrad(op, dy.data(), dy.dtype, db->as<float>(), channelView(dy), c.stream);
}

}  // namespace vgg

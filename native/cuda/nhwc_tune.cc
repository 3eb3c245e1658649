// VGG_CIFAR_CUDA_NHWC=auto: per nhwc shape, the implementation that measures fastest on this GPU among those
// whose results agree with our kernels' (tune.h). A BatchNorm shape is tuned at its first training forward, a
// pooling shape at its first forward: on synthetic data of the shape (the caller's tensors are not touched,
// beyond gamma and beta being read), each candidate runs forward and backward once to be compared with our
// kernels, then kRounds times, interleaved, between CUDA events; the least time counts. Another candidate
// replaces ours only when it takes under kMargin of our time, so noise does not swap near-equal ones.
//
// Why measure rather than decide from the GPU's name: which is faster depends on the cuDNN build, the card and
// the shape (cuDNN's legacy BatchNorm on bf16 NHWC measured 8-10x slower than on fp32 NCHW on an H200, while its
// *Ex calls are what PyTorch runs for channels_last), and a decision made here needs no second GPU run.
//
// What it costs and changes: a few forward+backward passes per new shape, a synchronization, and temporary
// device memory of 7 activations of the shape, freed at once. Choices are per process: two processes may
// choose differently where candidates are within noise of each other (so may cuDNN's own algorithm search);
// VGG_CIFAR_CUDA_NHWC=ours pins our deterministic kernels. The *Ex calls run in SPATIAL_PERSISTENT mode, whose
// reductions NVIDIA documents as able to overflow on extreme input ranges; agreement is checked on the tuning
// data only.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>
#include "core/capture.h"
#include "cuda/tune.h"

namespace vgg {

namespace {

#ifdef VGG_CUDA_EMU
constexpr int kRounds = 1;  // the emulator's times mean nothing: there tuning checks its logic, not speed
#else
constexpr int kRounds = 5;
#endif
constexpr double kMargin = 0.97;
// Relative L2 distances ||candidate - ours|| / ||ours|| allowed: a bf16 activation differs by its rounding
// (and by the odd ReLU mask bit near zero), fp32 ones and the fp32 statistics by summation order.
constexpr double kTolBf16 = 2e-2, kTolF32 = 1e-3;

const char* pathName(NhwcPath p) {
  switch (p) {
    case NhwcPath::ours: return "ours";
    case NhwcPath::cudnn: return "cudnn";
    case NhwcPath::cudnnEx: return "cudnn-ex";
    case NhwcPath::tuned: break;
  }
  return "auto";
}

// For the tests only (native/cuda/README.md): PREFER picks that candidate whatever the times, when it agrees;
// CORRUPT zeroes that candidate's tuning output before the comparison, which must then leave it out.
struct Hooks {
  std::string prefer, corrupt;
};
const Hooks& hooks() {
  static const Hooks h = [] {
    auto get = [](const char* v) { const char* s = std::getenv(v); return std::string(s ? s : ""); };
    return Hooks{get("VGG_CIFAR_CUDA_TUNE_PREFER"), get("VGG_CIFAR_CUDA_TUNE_CORRUPT")};
  }();
  return h;
}

struct Choice {
  NhwcPath pick = NhwcPath::ours;
  std::string report;
};
std::mutex mu;  // held while a shape is tuned: one thread tunes it, the others wait for its choice
std::map<std::string, Choice> choices;

std::string bnKey(const Tensor& x, bool relu) { return tensorKey(x) + (relu ? " bn+relu" : " bn"); }
std::string poolKey(const Tensor& x, const PoolParams& p) {
  return tensorKey(x) + " maxpool " + std::to_string(p.kernelH) + "x" + std::to_string(p.kernelW) + "/" + std::to_string(p.strideH) + "x" +
         std::to_string(p.strideW) + " pad " + std::to_string(p.padH) + "x" + std::to_string(p.padW);
}

Tensor temp(const char* op, const std::vector<int64_t>& shape, DType t, Layout l) {
  Tensor x;
  x.shape = shape;
  x.dtype = t;
  x.device = Device::cuda;
  x.layout = l;
  auto st = std::make_shared<Storage>();
  st->bytes = std::max<size_t>(x.bytes(), 1);
  st->ptr = cuda().allocate(st->bytes);
  st->backend = &cuda();
  x.storage = st;
  return x;
}

// Two events on the backend's stream, for one candidate's time at a time (not timing.cc's pool: reading it would
// end a profiler window that the first step's tuning may fall in).
class Stopwatch {
 public:
  explicit Stopwatch(const char* op) : op_(op), s_(cuda().ctx(op).stream) {
    checkCuda(cudaEventCreateWithFlags(&a_, cudaEventDefault), op, "cudaEventCreateWithFlags");
    checkCuda(cudaEventCreateWithFlags(&b_, cudaEventDefault), op, "cudaEventCreateWithFlags");
  }
  ~Stopwatch() {
    cudaEventDestroy(a_);
    cudaEventDestroy(b_);
  }
  template <class F>
  double ms(F&& f) {
    checkCuda(cudaEventRecord(a_, s_), op_, "cudaEventRecord");
    f();
    checkCuda(cudaEventRecord(b_, s_), op_, "cudaEventRecord");
    checkCuda(cudaEventSynchronize(b_), op_, "cudaEventSynchronize");
    float t = 0.0f;
    checkCuda(cudaEventElapsedTime(&t, a_, b_), op_, "cudaEventElapsedTime");
    return t;
  }

 private:
  const char* op_;
  cudaStream_t s_;
  cudaEvent_t a_ = nullptr, b_ = nullptr;
};

// ||a - b|| / ||b||, NaN where either holds a NaN or an infinity (a synchronization).
double distance(const char* op, const Tensor& a, const Tensor& b, const Tensor& sums) {
  cudaStream_t s = cuda().ctx(op).stream;
  checkCuda(cudaMemsetAsync(sums.data(), 0, 2 * sizeof(double), s), op, "cudaMemsetAsync");
  launchTuneSquaredDistance(op, a.data(), b.data(), a.dtype, a.numel(), sums.as<double>(), s);
  double h[2] = {0, 0};
  checkCuda(cudaMemcpyAsync(h, sums.data(), sizeof h, cudaMemcpyDeviceToHost, s), op, "cudaMemcpyAsync");
  checkCuda(cudaStreamSynchronize(s), op, "cudaStreamSynchronize");
  if (!std::isfinite(h[0]) || !std::isfinite(h[1])) return NAN;
  return h[1] > 0 ? std::sqrt(h[0] / h[1]) : (h[0] > 0 ? INFINITY : 0.0);
}

struct Candidate {
  NhwcPath path;
  std::string out;  // why it was left out; empty while it is in the running
  double ms = INFINITY;
};

// Ours first (the reference, which must run: its failure is the op's), then the others checked against it,
// then the timing rounds, then the pick. `run(path, reference)` runs one forward+backward into the reference's
// outputs or the candidates' and returns why it could not ("" when it ran); `prepare(reference)` restores its
// inputs; `differs()` compares the candidates' outputs with the reference's ("" when they agree); `corrupt()`
// spoils the candidates' outputs (the CORRUPT hook).
template <class Run, class Prepare, class Differs, class Corrupt>
Choice decide(const char* op, std::vector<Candidate> cands, Run&& run, Prepare&& prepare, Differs&& differs, Corrupt&& corrupt) {
  prepare(true);
  std::string why = run(NhwcPath::ours, true);
  if (!why.empty()) throw BackendErr(op, "tuning", "our kernels did not run: " + why);
  for (Candidate& c : cands) {
    if (c.path == NhwcPath::ours || !c.out.empty()) continue;
    try {
      prepare(false);
      c.out = run(c.path, false);
    } catch (const std::exception& e) {
      c.out = std::string("failed: ") + e.what();
    }
    if (c.out.empty() && hooks().corrupt == pathName(c.path)) corrupt();
    if (c.out.empty()) c.out = differs();
  }
  Stopwatch sw(op);
  for (int r = 0; r < kRounds; r++)
    for (Candidate& c : cands) {
      if (!c.out.empty()) continue;
      bool ref = c.path == NhwcPath::ours;
      prepare(ref);
      c.ms = std::min(c.ms, sw.ms([&] { run(c.path, ref); }));
    }
  const Candidate* ours = &cands[0];
  const Candidate* best = ours;
  for (const Candidate& c : cands)
    if (c.out.empty() && c.ms < kMargin * ours->ms && c.ms < best->ms) best = &c;
  for (const Candidate& c : cands)
    if (c.out.empty() && hooks().prefer == pathName(c.path)) best = &c;
  Choice ch;
  ch.pick = best->path;
  for (const Candidate& c : cands)
    ch.report += std::string(ch.report.empty() ? "" : ", ") + pathName(c.path) + " " + (c.out.empty() ? fmt("%.3f ms", c.ms) : "left out (" + c.out + ")");
  ch.report += std::string(" -> ") + pathName(ch.pick) + (hooks().prefer.empty() ? "" : " (VGG_CIFAR_CUDA_TUNE_PREFER=" + hooks().prefer + ")");
  return ch;
}

std::vector<Candidate> candidates(bool withEx) {
  std::vector<Candidate> c{{NhwcPath::ours}, {NhwcPath::cudnn}};
  if (withEx) {
    c.push_back({NhwcPath::cudnnEx});
    std::string missing = cudnnExMissing();
    if (!missing.empty()) c.back().out = "the loaded cuDNN lacks the *Ex calls: details.nhwc names them";
  }
  return c;
}

// A distance over tolerance, named: "" when every pair agrees.
std::string compare(const char* op, const std::vector<std::pair<const char*, std::pair<const Tensor*, const Tensor*>>>& pairs) {
  Tensor sums = temp(op, {4}, DType::f32, Layout::plain);  // two doubles
  for (const auto& [name, ab] : pairs) {
    double tol = ab.first->dtype == DType::bf16 ? kTolBf16 : kTolF32;
    double d = distance(op, *ab.first, *ab.second, sums);
    if (!(d <= tol)) return fmt("disagrees with our kernels: %s at relative L2 distance %.3g (tolerance %.0e)", name, d, tol);
  }
  return "";
}

Choice tuneBatchNorm(const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta, const BatchNormParams& p) {
  cudaStream_t s = cuda().ctx(op).stream;
  const int64_t C = x.shape[1];
  auto act = [&] { return temp(op, x.shape, x.dtype, Layout::nhwc); };
  auto vec = [&] { return temp(op, {C}, DType::f32, Layout::plain); };
  Tensor xs = act(), dy = act(), dyWork = act();
  launchTuneUniform(op, xs.data(), x.dtype, xs.numel(), C, 0x7475e1, -1.0f, 1.0f, s);
  launchTuneUniform(op, dy.data(), x.dtype, dy.numel(), C, 0x7475e2, -1.0f, 1.0f, s);
  struct Out {
    Tensor y, dx, mean, invStd, rm, rv, dgamma, dbeta;
  };
  Out ref{act(), act(), vec(), vec(), vec(), vec(), vec(), vec()};
  Out cand{act(), act(), vec(), vec(), vec(), vec(), vec(), vec()};
  auto prepare = [&](bool isRef) {
    Out& o = isRef ? ref : cand;
    launchFill(op, o.rm.data(), DType::f32, C, 0.0f, s);
    launchFill(op, o.rv.data(), DType::f32, C, 1.0f, s);
    // The legacy backward masks dy in place.
    checkCuda(cudaMemcpyAsync(dyWork.data(), dy.data(), dy.bytes(), cudaMemcpyDeviceToDevice, s), op, "cudaMemcpyAsync");
  };
  auto run = [&](NhwcPath path, bool isRef) -> std::string {
    Out& o = isRef ? ref : cand;
    const Tensor* reluY = p.relu ? &o.y : nullptr;
    // What napi does after each op: the *Ex backward matches its forward's reserve space by these versions.
    auto touched = [](std::initializer_list<const Tensor*> ts) {
      for (const Tensor* t : ts) t->touch();
    };
    if (path == NhwcPath::cudnnEx) {
      if (!batchNormExForward(op, xs, gamma, beta, o.rm, o.rv, o.y, o.mean, o.invStd, p)) return "cuDNN did not take the forward";
      touched({&o.y, &o.mean, &o.invStd, &o.rm, &o.rv});
      if (!batchNormExBackward(op, xs, dyWork, gamma, o.mean, o.invStd, o.dx, o.dgamma, o.dbeta, p.eps, reluY))
        return "cuDNN did not take the backward";
    } else {
      batchNormForwardVia(path, op, xs, gamma, beta, o.rm, o.rv, o.y, o.mean, o.invStd, p);
      touched({&o.y, &o.mean, &o.invStd, &o.rm, &o.rv});
      batchNormBackwardVia(path, op, xs, dyWork, gamma, o.mean, o.invStd, o.dx, o.dgamma, o.dbeta, p.eps, reluY);
    }
    touched({&o.dx, &o.dgamma, &o.dbeta, &dyWork});
    return "";
  };
  auto differs = [&] {
    return compare(op, {{"y", {&cand.y, &ref.y}}, {"saved mean", {&cand.mean, &ref.mean}}, {"saved 1/std", {&cand.invStd, &ref.invStd}},
                        {"running mean", {&cand.rm, &ref.rm}}, {"running variance", {&cand.rv, &ref.rv}}, {"dx", {&cand.dx, &ref.dx}},
                        {"dgamma", {&cand.dgamma, &ref.dgamma}}, {"dbeta", {&cand.dbeta, &ref.dbeta}}});
  };
  auto corrupt = [&] { launchFill(op, cand.y.data(), x.dtype, cand.y.numel(), 0.0f, s); };
  return decide(op, candidates(true), run, prepare, differs, corrupt);
}

Choice tuneMaxPool(const char* op, const Tensor& x, const Tensor& y, const PoolParams& p) {
  cudaStream_t s = cuda().ctx(op).stream;
  auto like = [&](const Tensor& t) { return temp(op, t.shape, t.dtype, Layout::nhwc); };
  Tensor xs = like(x), dy = like(y);
  launchTuneWindowRanks(op, xs.data(), x.dtype, x.shape, p.kernelH, p.kernelW, 0x7475e3, s);
  launchTuneUniform(op, dy.data(), y.dtype, dy.numel(), y.shape[1], 0x7475e4, -1.0f, 1.0f, s);
  Tensor refY = like(y), refDx = like(x), candY = like(y), candDx = like(x);
  auto prepare = [](bool) {};
  auto run = [&](NhwcPath path, bool isRef) -> std::string {
    const Tensor& yo = isRef ? refY : candY;
    const Tensor& dxo = isRef ? refDx : candDx;
    maxPoolForwardVia(path, op, xs, yo, p);
    yo.touch();
    maxPoolBackwardVia(path, op, dy, xs, yo, dxo, p);
    dxo.touch();
    return "";
  };
  auto differs = [&] { return compare(op, {{"y", {&candY, &refY}}, {"dx", {&candDx, &refDx}}}); };
  auto corrupt = [&] { launchFill(op, candY.data(), y.dtype, candY.numel(), 0.0f, s); };
  return decide(op, candidates(false), run, prepare, differs, corrupt);
}

// The choice for key, tuned now by `tune` when new; refused while a graph is being captured.
template <class Tune>
NhwcPath lookUpOrTune(const char* op, const std::string& key, Tune&& tune) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = choices.find(key);
  if (it != choices.end()) return it->second.pick;
  requireNotCapturing(op, "timing the implementations of a new nhwc shape (VGG_CIFAR_CUDA_NHWC=auto)");
  Choice c;
  try {
    c = tune();
  } catch (const std::exception& e) {
    // Tuning must not fail an op that can run: e.g. its temporary memory may not fit beside a large batch. Our
    // kernels run untuned; a genuine error shows again, as the op's own, when they do.
    c.report = std::string("not tuned (") + e.what() + ") -> ours";
  }
  noteCuda(op, "tuned " + key + ": " + c.report);
  return choices.emplace(key, std::move(c)).first->second.pick;
}

NhwcPath lookUp(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = choices.find(key);
  return it == choices.end() ? NhwcPath::ours : it->second.pick;
}

// Pooling whose every window is whole and apart: what windowRanksKernel's data is free of ties for.
bool tunablePool(const Tensor& x, const PoolParams& p) {
  return p.strideH == p.kernelH && p.strideW == p.kernelW && p.padH == 0 && p.padW == 0 && p.kernelH * p.kernelW <= 256 &&
         x.shape[2] >= p.kernelH && x.shape[3] >= p.kernelW;
}

}  // namespace

NhwcPath tunedBatchNorm(const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta, const BatchNormParams& p) {
  return lookUpOrTune(op, bnKey(x, p.relu), [&] { return tuneBatchNorm(op, x, gamma, beta, p); });
}

NhwcPath tunedBatchNormChoice(const Tensor& x, bool relu) { return lookUp(bnKey(x, relu)); }

NhwcPath tunedMaxPool(const char* op, const Tensor& x, const Tensor& y, const PoolParams& p) {
  if (!tunablePool(x, p)) return NhwcPath::ours;
  return lookUpOrTune(op, poolKey(x, p), [&] { return tuneMaxPool(op, x, y, p); });
}

NhwcPath tunedMaxPoolChoice(const Tensor& x, const Tensor& y, const PoolParams& p) {
  return tunablePool(x, p) ? lookUp(poolKey(x, p)) : NhwcPath::ours;
}

std::string nhwcTuneSummary() {
  std::lock_guard<std::mutex> lock(mu);
  std::string r;
  for (const auto& [key, c] : choices) r += (r.empty() ? "" : "; ") + key + ": " + c.report;
  return r.empty() ? "none yet" : r;
}

}  // namespace vgg

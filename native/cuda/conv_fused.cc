// The fused candidate for a convolution forward with a bias (VGG_CIFAR_CUDA_CONV=fused): one operation graph
// of cuDNN's graph (backend) API,
//   x, w --CONVOLUTION_FORWARD--> c (virtual, fp32) --POINTWISE ADD bias--> a (virtual, fp32) --RELU_FWD--> y
// (without the ReLU the add writes y), finalized into an execution plan once per shape, dtype, format, ReLU
// and math mode, and executed with a variant pack on the backend's stream. The legacy path runs the
// convolution and then our bias kernel over y, a second pass over the output; here the epilogue is fused.
//
// Numerics: the convolution's compute type and both pointwise ops' precision are FLOAT, so accumulation, bias
// and ReLU are fp32 and a bf16 y is rounded once. Engines are taken from the heuristics (mode A, then the
// fallback list) in order, skipping those whose numerical notes say they reduce in reduced precision or
// down-convert their inputs (which may mean fp16) or are not deterministic (a CUDA graph's replay must equal
// the eager step bit for bit), and, for fp32 with TF32 off, those that use tensor cores:
// the graph API's counterpart of conv.cc's FMA-only choice, as far as cuDNN's notes tell (the fp32 parity test
// at 1e-4 would catch a TF32 engine). fp32 with TF32 on also takes tensor-core engines without those notes.
//
// cuDNN may refuse a graph (no engine config finalizes; NOT_SUPPORTED or BAD_PARAM while building it or at its
// execution): that plan is remembered as refused and runs the legacy path (noteFallback;
// status().details.convFused lists it).
#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "core/capture.h"
#include "cuda/cuda_backend.h"

namespace vgg {

// ---------- the switch ----------

// Read and checked once per process: an unknown value makes the backend unavailable, saying why (status()).
static const EnvChoice& pathChoice() {
  static const EnvChoice c = readEnvChoice("VGG_CIFAR_CUDA_CONV", {"legacy", "fused"});
  return c;
}
ConvPath convPath() { return chosen<ConvPath>(pathChoice()); }
std::string convPathProblem() { return pathChoice().problem; }

std::string convPathDetail() {
  const EnvChoice& c = pathChoice();
  if (!c.problem.empty()) return "invalid: " + c.problem;
  if (chosen<ConvPath>(c) == ConvPath::legacy) return "legacy: cudnnConvolutionForward (algorithm from Find*Ex), then our bias (+ReLU) kernel";
  std::string missing = cudnnGraphMissing();
  if (!missing.empty()) return "fused requested, but the loaded cuDNN lacks " + missing + ": convolutions run the legacy path";
  return "fused: convolution + bias (+ReLU) as one cuDNN graph-API execution plan per shape (the legacy path where cuDNN refuses it)";
}

// ---------- the fused plans ----------

namespace {

// Unique ids of the graph's tensors (the variant pack names them).
enum : int64_t { kX = 1, kW = 2, kBias = 3, kY = 4, kConvOut = 5, kAddOut = 6 };
// Alignment declared for every tensor; checked on each call's pointers.
constexpr int64_t kAlign = 16;
// Room for an engine's numerical notes (cuDNN 9.6 has 10 kinds; later versions may add some).
constexpr int64_t kMaxNotes = 32;

// A refusal while building a plan: the plan runs the legacy path. Other failures are errors (BackendErr).
struct Refused {
  std::string why;
};

// An owned backend descriptor.
struct Desc {
  cu::cudnnBackendDescriptor_t d = nullptr;
  Desc() = default;
  Desc(const Desc&) = delete;
  Desc& operator=(const Desc&) = delete;
  ~Desc() {
    if (d) cudaLibraries().cudnn.cudnnBackendDestroyDescriptor(d);
  }
};
using DescPtr = std::unique_ptr<Desc>;
// Descriptors a plan was built from (a deque: references to its elements survive growth).
using Descs = std::deque<DescPtr>;

// Builds the descriptors of one plan; every call's status is checked: a refusal throws Refused naming the call.
class Builder {
 public:
  explicit Builder(const char* op) : op_(op), d_(cuda().dnn()) {}

  void check(cu::cudnnStatus_t s, const char* call, const char* what) {
    if (s == cu::CUDNN_STATUS_SUCCESS) return;
    if (cudnnRefused(s)) throw Refused{std::string(call) + " (" + what + "): " + cudnnStatusText(s)};
    checkCudnn(s, op_, call);
  }
  DescPtr create(cu::cudnnBackendDescriptorType_t type, const char* what) {
    DescPtr p(new Desc());
    check(d_.cudnnBackendCreateDescriptor(type, &p->d), "cudnnBackendCreateDescriptor", what);
    return p;
  }
  template <class T>
  void set(const DescPtr& p, cu::cudnnBackendAttributeName_t name, cu::cudnnBackendAttributeType_t type, const T* values, int64_t n,
           const char* what) {
    check(d_.cudnnBackendSetAttribute(p->d, name, type, n, values), "cudnnBackendSetAttribute", what);
  }
  template <class T>
  void set1(const DescPtr& p, cu::cudnnBackendAttributeName_t name, cu::cudnnBackendAttributeType_t type, T value, const char* what) {
    set(p, name, type, &value, 1, what);
  }
  void setDesc(const DescPtr& p, cu::cudnnBackendAttributeName_t name, const DescPtr& value, const char* what) {
    set1(p, name, cu::CUDNN_TYPE_BACKEND_DESCRIPTOR, value->d, what);
  }
  void finalize(const DescPtr& p, const char* what) { check(d_.cudnnBackendFinalize(p->d), "cudnnBackendFinalize", what); }

  // A tensor of logical dims `dims` (NCHW order) with strides `strides`; virtual ones live only inside the plan.
  DescPtr tensor(int64_t uid, cu::cudnnDataType_t dt, const std::vector<int64_t>& dims, const std::vector<int64_t>& strides, bool isVirtual,
                 const char* what) {
    DescPtr t = create(cu::CUDNN_BACKEND_TENSOR_DESCRIPTOR, what);
    set1(t, cu::CUDNN_ATTR_TENSOR_DATA_TYPE, cu::CUDNN_TYPE_DATA_TYPE, dt, what);
    set(t, cu::CUDNN_ATTR_TENSOR_DIMENSIONS, cu::CUDNN_TYPE_INT64, dims.data(), (int64_t)dims.size(), what);
    set(t, cu::CUDNN_ATTR_TENSOR_STRIDES, cu::CUDNN_TYPE_INT64, strides.data(), (int64_t)strides.size(), what);
    set1(t, cu::CUDNN_ATTR_TENSOR_UNIQUE_ID, cu::CUDNN_TYPE_INT64, uid, what);
    set1(t, cu::CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, cu::CUDNN_TYPE_INT64, kAlign, what);
    if (isVirtual) set1(t, cu::CUDNN_ATTR_TENSOR_IS_VIRTUAL, cu::CUDNN_TYPE_BOOLEAN, true, what);
    finalize(t, what);
    return t;
  }
  // A pointwise op (ADD with a second input b, or RELU_FWD) in fp32.
  DescPtr pointwise(cu::cudnnPointwiseMode_t mode, const DescPtr& x, const DescPtr* b, const DescPtr& y, const char* what) {
    DescPtr pw = create(cu::CUDNN_BACKEND_POINTWISE_DESCRIPTOR, what);
    set1(pw, cu::CUDNN_ATTR_POINTWISE_MODE, cu::CUDNN_TYPE_POINTWISE_MODE, mode, what);
    set1(pw, cu::CUDNN_ATTR_POINTWISE_MATH_PREC, cu::CUDNN_TYPE_DATA_TYPE, cu::CUDNN_DATA_FLOAT, what);
    finalize(pw, what);
    const DescPtr& pwKept = keep(std::move(pw));
    DescPtr opd = create(cu::CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, what);
    setDesc(opd, cu::CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, pwKept, what);
    setDesc(opd, cu::CUDNN_ATTR_OPERATION_POINTWISE_XDESC, x, what);
    if (b) setDesc(opd, cu::CUDNN_ATTR_OPERATION_POINTWISE_BDESC, *b, what);
    setDesc(opd, cu::CUDNN_ATTR_OPERATION_POINTWISE_YDESC, y, what);
    finalize(opd, what);
    return opd;
  }
  // Descriptors the plan's descriptors refer to stay alive with it.
  const DescPtr& keep(DescPtr p) {
    kept_.push_back(std::move(p));
    return kept_.back();
  }
  Descs release() { return std::move(kept_); }
  const cu::Cudnn& dnn() const { return d_; }

 private:
  const char* op_;
  const cu::Cudnn& d_;
  Descs kept_;
};

// Strides of logical NCHW dims stored NCHW, or NHWC (for filters: KRSC).
std::vector<int64_t> stridesOf(const std::vector<int64_t>& d, bool nhwc) {
  if (nhwc) return {d[1] * d[2] * d[3], 1, d[3] * d[1], d[1]};
  return {d[1] * d[2] * d[3], d[2] * d[3], d[3], 1};
}

struct FusedPlan {
  Descs descs;                 // everything the execution plan was built from, destroyed with it
  DescPtr plan;
  int64_t wsBytes = 0;
  int64_t engine = -1;         // the engine's global index, for the summary
  std::string refused;         // cuDNN's refusal (the legacy path runs this plan), empty when it took it
  uint64_t runs = 0;
};

std::mutex mu;  // guards everything below
// Never freed: destroying execution plans while the process exits could call into a cuDNN whose CUDA context
// is already gone.
auto& plans = *new std::map<std::string, std::unique_ptr<FusedPlan>>();
uint64_t misaligned = 0;  // calls that ran the legacy path because a pointer was not kAlign-aligned

// Whether an engine config's numerical notes fit this call's numerics (see the top of this file).
bool notesAllowed(Builder& B, const DescPtr& cfg, DType dt, bool tf32, int64_t* engineIndex) {
  DescPtr engine = B.create(cu::CUDNN_BACKEND_ENGINE_DESCRIPTOR, "engine of a heuristics result");
  int64_t n = 0;
  B.check(B.dnn().cudnnBackendGetAttribute(cfg->d, cu::CUDNN_ATTR_ENGINECFG_ENGINE, cu::CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n, &engine->d),
          "cudnnBackendGetAttribute", "ENGINECFG_ENGINE");
  cu::cudnnBackendNumericalNote_t notes[kMaxNotes];
  int64_t count = 0;
  B.check(B.dnn().cudnnBackendGetAttribute(engine->d, cu::CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, cu::CUDNN_TYPE_NUMERICAL_NOTE,
                                           kMaxNotes, &count, notes),
          "cudnnBackendGetAttribute", "ENGINE_NUMERICAL_NOTE");
  // The index only labels the summary: where cuDNN does not give it, the plan is listed as engine -1.
  if (B.dnn().cudnnBackendGetAttribute(engine->d, cu::CUDNN_ATTR_ENGINE_GLOBAL_INDEX, cu::CUDNN_TYPE_INT64, 1, &n, engineIndex) !=
      cu::CUDNN_STATUS_SUCCESS)
    *engineIndex = -1;
  for (int64_t i = 0; i < count && i < kMaxNotes; i++) {
    switch (notes[i]) {
      case cu::CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION:
      case cu::CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS:
      case cu::CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC: return false;
      case cu::CUDNN_NUMERICAL_NOTE_TENSOR_CORE:
        if (dt == DType::f32 && !tf32) return false;
        break;
      default: break;
    }
  }
  return true;
}

// The engine configs the heuristics of `mode` suggest for the graph, best first (none where it refuses the graph).
std::vector<DescPtr> heuristics(Builder& B, const DescPtr& graph, cu::cudnnBackendHeurMode_t mode, std::string* lastRefusal) {
  std::vector<DescPtr> cfgs;
  try {
    DescPtr heur = B.create(cu::CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, "heuristics");
    B.setDesc(heur, cu::CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, graph, "heuristics");
    B.set1(heur, cu::CUDNN_ATTR_ENGINEHEUR_MODE, cu::CUDNN_TYPE_HEUR_MODE, mode, "heuristics");
    B.finalize(heur, "heuristics");
    int64_t count = 0;
    B.check(B.dnn().cudnnBackendGetAttribute(heur->d, cu::CUDNN_ATTR_ENGINEHEUR_RESULTS, cu::CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr),
            "cudnnBackendGetAttribute", "the number of heuristics results");
    if (count <= 0) return cfgs;
    std::vector<cu::cudnnBackendDescriptor_t> raw;
    for (int64_t i = 0; i < count; i++) {
      cfgs.push_back(B.create(cu::CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, "heuristics result"));
      raw.push_back(cfgs.back()->d);
    }
    int64_t got = 0;
    B.check(B.dnn().cudnnBackendGetAttribute(heur->d, cu::CUDNN_ATTR_ENGINEHEUR_RESULTS, cu::CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &got,
                                             raw.data()),
            "cudnnBackendGetAttribute", "heuristics results");
    cfgs.resize((size_t)std::max<int64_t>(0, std::min(got, count)));
  } catch (const Refused& r) {
    *lastRefusal = r.why;
  }
  return cfgs;
}

std::string planKey(const FusedConv& c, bool tf32) {
  return std::string(dtypeName(c.dt)) + shapeString(c.x) + (c.nhwc ? "nhwc" : "nchw") + " * " + shapeString(c.w) + " s" +
         std::to_string(c.p.strideH) + "," + std::to_string(c.p.strideW) + " p" + std::to_string(c.p.padH) + "," + std::to_string(c.p.padW) +
         (c.relu ? " +bias+relu" : " +bias") + (c.dt == DType::f32 ? (tf32 ? " tf32" : " fp32") : "");
}

// Builds the plan for `c`: the graph, then the first engine config (heuristics mode A, then the fallback list)
// whose numerical notes fit and that finalizes into an execution plan within the workspace limit.
void build(const char* op, FusedPlan& P, const FusedConv& c, bool tf32) {
  Builder B(op);
  cu::cudnnHandle_t h = cuda().ctx(op).dnn;
  const cu::cudnnDataType_t io = dnnType(c.dt);
  const std::vector<int64_t> bias = {1, c.y[1], 1, 1};
  const DescPtr& x = B.keep(B.tensor(kX, io, c.x, stridesOf(c.x, c.nhwc), false, "x"));
  const DescPtr& w = B.keep(B.tensor(kW, io, c.w, stridesOf(c.w, c.nhwc), false, "w"));
  const DescPtr& b = B.keep(B.tensor(kBias, cu::CUDNN_DATA_FLOAT, bias, stridesOf(bias, c.nhwc), false, "bias"));
  const DescPtr& y = B.keep(B.tensor(kY, io, c.y, stridesOf(c.y, c.nhwc), false, "y"));
  const DescPtr& conv = B.keep(B.tensor(kConvOut, cu::CUDNN_DATA_FLOAT, c.y, stridesOf(c.y, c.nhwc), true, "convolution output"));

  DescPtr cd = B.create(cu::CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, "convolution");
  const int64_t two = 2, dil[2] = {1, 1}, stride[2] = {c.p.strideH, c.p.strideW}, pad[2] = {c.p.padH, c.p.padW};
  B.set1(cd, cu::CUDNN_ATTR_CONVOLUTION_COMP_TYPE, cu::CUDNN_TYPE_DATA_TYPE, cu::CUDNN_DATA_FLOAT, "convolution");
  B.set1(cd, cu::CUDNN_ATTR_CONVOLUTION_CONV_MODE, cu::CUDNN_TYPE_CONVOLUTION_MODE, cu::CUDNN_CROSS_CORRELATION, "convolution");
  B.set1(cd, cu::CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, cu::CUDNN_TYPE_INT64, two, "convolution");
  B.set(cd, cu::CUDNN_ATTR_CONVOLUTION_DILATIONS, cu::CUDNN_TYPE_INT64, dil, 2, "convolution");
  B.set(cd, cu::CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, cu::CUDNN_TYPE_INT64, stride, 2, "convolution");
  B.set(cd, cu::CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, cu::CUDNN_TYPE_INT64, pad, 2, "convolution");
  B.set(cd, cu::CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, cu::CUDNN_TYPE_INT64, pad, 2, "convolution");
  B.finalize(cd, "convolution");
  const DescPtr& convD = B.keep(std::move(cd));

  DescPtr fwd = B.create(cu::CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, "convolution forward");
  const float one = 1.0f, zero = 0.0f;
  B.setDesc(fwd, cu::CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, x, "convolution forward");
  B.setDesc(fwd, cu::CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, w, "convolution forward");
  B.setDesc(fwd, cu::CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, conv, "convolution forward");
  B.setDesc(fwd, cu::CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, convD, "convolution forward");
  B.set1(fwd, cu::CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, cu::CUDNN_TYPE_FLOAT, one, "convolution forward");
  B.set1(fwd, cu::CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, cu::CUDNN_TYPE_FLOAT, zero, "convolution forward");
  B.finalize(fwd, "convolution forward");
  std::vector<cu::cudnnBackendDescriptor_t> ops = {B.keep(std::move(fwd))->d};
  if (c.relu) {
    const DescPtr& added = B.keep(B.tensor(kAddOut, cu::CUDNN_DATA_FLOAT, c.y, stridesOf(c.y, c.nhwc), true, "bias sum"));
    ops.push_back(B.keep(B.pointwise(cu::CUDNN_POINTWISE_ADD, conv, &b, added, "bias add"))->d);
    ops.push_back(B.keep(B.pointwise(cu::CUDNN_POINTWISE_RELU_FWD, added, nullptr, y, "ReLU"))->d);
  } else {
    ops.push_back(B.keep(B.pointwise(cu::CUDNN_POINTWISE_ADD, conv, &b, y, "bias add"))->d);
  }

  DescPtr graph = B.create(cu::CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, "operation graph");
  B.set1(graph, cu::CUDNN_ATTR_OPERATIONGRAPH_HANDLE, cu::CUDNN_TYPE_HANDLE, h, "operation graph");
  B.set(graph, cu::CUDNN_ATTR_OPERATIONGRAPH_OPS, cu::CUDNN_TYPE_BACKEND_DESCRIPTOR, ops.data(), (int64_t)ops.size(), "operation graph");
  B.finalize(graph, "operation graph");
  const DescPtr& g = B.keep(std::move(graph));

  std::string lastRefusal;
  std::vector<DescPtr> cfgs = heuristics(B, g, cu::CUDNN_HEUR_MODE_A, &lastRefusal);
  for (DescPtr& f : heuristics(B, g, cu::CUDNN_HEUR_MODE_FALLBACK, &lastRefusal)) cfgs.push_back(std::move(f));
  const int64_t cap = (int64_t)convWorkspaceLimit();
  int tried = 0, skippedNotes = 0, skippedWorkspace = 0;
  for (DescPtr& cfg : cfgs) {
    int64_t engine = -1;
    try {
      if (!notesAllowed(B, cfg, c.dt, tf32, &engine)) {
        skippedNotes++;
        continue;
      }
      tried++;
      DescPtr plan = B.create(cu::CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, "execution plan");
      B.set1(plan, cu::CUDNN_ATTR_EXECUTION_PLAN_HANDLE, cu::CUDNN_TYPE_HANDLE, h, "execution plan");
      B.setDesc(plan, cu::CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, cfg, "execution plan");
      cu::cudnnStatus_t s = B.dnn().cudnnBackendFinalize(plan->d);
      if (s != cu::CUDNN_STATUS_SUCCESS) {  // this engine config cannot run the graph: try the next one
        lastRefusal = "cudnnBackendFinalize (execution plan, engine " + std::to_string(engine) + "): " + cudnnStatusText(s);
        continue;
      }
      int64_t ws = 0, n = 0;
      B.check(B.dnn().cudnnBackendGetAttribute(plan->d, cu::CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, cu::CUDNN_TYPE_INT64, 1, &n, &ws),
              "cudnnBackendGetAttribute", "EXECUTION_PLAN_WORKSPACE_SIZE");
      if (ws > cap) {
        skippedWorkspace++;
        continue;
      }
      B.keep(std::move(cfg));
      P.plan = std::move(plan);
      P.wsBytes = ws;
      P.engine = engine;
      P.descs = B.release();
      return;
    } catch (const Refused& r) {
      lastRefusal = r.why;
    }
  }
  throw Refused{"no engine config finalized (" + std::to_string(cfgs.size()) + " suggested, " + std::to_string(skippedNotes) +
                " skipped for their numerical notes, " + std::to_string(skippedWorkspace) + " over the " + std::to_string(cap >> 20) +
                " MiB workspace, " + std::to_string(tried) + " tried" + (lastRefusal.empty() ? "" : "; last: " + lastRefusal) + ")"};
}

bool graphAvailable(const char* op) {
  static const std::string missing = cudnnGraphMissing();
  static std::once_flag noted;
  return optionalCallsLoaded(op, missing, noted, "the legacy convolution path");
}

bool aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % kAlign == 0; }

}  // namespace

bool fusedConvForward(const char* op, const FusedConv& c) {
  if (!graphAvailable(op)) return false;
  const bool tf32 = cuda().tf32();
  std::lock_guard<std::mutex> lock(mu);
  const std::string key = planKey(c, tf32);
  auto it = plans.find(key);
  if (it == plans.end()) {
    requireNotCapturing(op, "building a fused convolution plan (heuristics and finalizing may allocate and synchronize)");
    auto P = std::make_unique<FusedPlan>();
    try {
      build(op, *P, c, tf32);
    } catch (const Refused& r) {
      P->refused = r.why;
      noteFallback(op, "cuDNN refused the fused graph " + key + ": " + r.why, "the legacy convolution path");
    }
    it = plans.emplace(key, std::move(P)).first;
  }
  FusedPlan& P = *it->second;
  if (!P.refused.empty()) return false;
  void* ws = P.wsBytes > 0 ? cuda().workspace(op, (size_t)P.wsBytes) : nullptr;
  if (!aligned(c.xData) || !aligned(c.wData) || !aligned(c.bias) || !aligned(c.yData) || !aligned(ws)) {
    misaligned++;
    return false;
  }
  const auto& d = cuda().dnn();
  Desc pack;
  checkCudnn(d.cudnnBackendCreateDescriptor(cu::CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &pack.d), op, "cudnnBackendCreateDescriptor");
  const int64_t uids[4] = {kX, kW, kBias, kY};
  void* ptrs[4] = {const_cast<void*>(c.xData), const_cast<void*>(c.wData), const_cast<float*>(c.bias), c.yData};
  checkCudnn(d.cudnnBackendSetAttribute(pack.d, cu::CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, cu::CUDNN_TYPE_INT64, 4, uids), op,
             "cudnnBackendSetAttribute");
  checkCudnn(d.cudnnBackendSetAttribute(pack.d, cu::CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, cu::CUDNN_TYPE_VOID_PTR, 4, ptrs), op,
             "cudnnBackendSetAttribute");
  checkCudnn(d.cudnnBackendSetAttribute(pack.d, cu::CUDNN_ATTR_VARIANT_PACK_WORKSPACE, cu::CUDNN_TYPE_VOID_PTR, 1, &ws), op,
             "cudnnBackendSetAttribute");
  checkCudnn(d.cudnnBackendFinalize(pack.d), op, "cudnnBackendFinalize (variant pack)");
  // Stream-ordered on the handle's stream (the backend's one stream), so a capture records it like any kernel.
  cu::cudnnStatus_t s = d.cudnnBackendExecute(cuda().ctx(op).dnn, P.plan->d, pack.d);
  if (cudnnRefused(s)) {  // refused before it ran anything: this plan runs the legacy path from now on
    P.refused = "cudnnBackendExecute (execution plan): " + cudnnStatusText(s);
    noteFallback(op, "cuDNN refused to run the fused plan " + key + " (" + P.refused + ")", "the legacy convolution path");
    return false;
  }
  checkCudnn(s, op, "cudnnBackendExecute");
  P.runs++;
  return true;
}

std::string fusedConvSummary() {
  std::lock_guard<std::mutex> lock(mu);
  return planLists(plans, "ran fused", "the legacy path",
                   [](const std::string& key, const FusedPlan& P) {
                     return P.runs ? key + " (engine " + std::to_string(P.engine) + ", " + std::to_string(P.wsBytes) + " B workspace)" : "";
                   }) +
         ". Calls with a pointer not " + std::to_string(kAlign) + "-byte aligned (the legacy path ran): " + std::to_string(misaligned);
}

}  // namespace vgg

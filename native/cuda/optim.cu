// Fused optimizer updates, one pass over a parameter, with PyTorch's formulas (torch.optim single-tensor
// paths). Step-dependent scalars (bias corrections, decayed lr) are folded once on the host in double.
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include "core/optim_multi.h"
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace vgg {

// The per-element updates are core/optim_math.h, shared with the CPU backend; built without FMA
// contraction (CMakeLists.txt), they round exactly as the CPU does.
__global__ void sgdKernel(float* p, const float* grad, float* buf, int64_t n, SgdCoeffs c) {
  VGG_GRID_LOOP(i, n) sgdElement(p[i], grad[i], buf ? buf + i : nullptr, c);
}

__global__ void adamKernel(float* p, const float* grad, float* m, float* v, float* vmax, int64_t n, AdamCoeffs c) {
  VGG_GRID_LOOP(i, n) adamElement(p[i], grad[i], m[i], v[i], vmax ? vmax + i : nullptr, c);
}

__global__ void adagradKernel(float* p, const float* grad, float* sum, int64_t n, AdagradCoeffs c) {
  VGG_GRID_LOOP(i, n) adagradElement(p[i], grad[i], sum[i], c);
}

void CudaBackend::sgdUpdate(const Tensor& param, const Tensor& grad, const Tensor* momentumBuf, const SgdParams& p) {
  const char* op = "sgdUpdate";
  requirePlainF32(op, {&param, &grad, momentumBuf});
  int64_t n = param.numel();
  SgdCoeffs c = sgdCoeffs(p);
  if (c.useMomentum && !momentumBuf) throw RangeErr("sgdUpdate: momentum " + std::to_string(p.momentum) + " needs a momentum buffer");
  sgdKernel<<<blocksFor(n), kThreads, 0, ctx(op).stream>>>(param.as<float>(), grad.as<float>(), c.useMomentum ? momentumBuf->as<float>() : nullptr,
                                                           n, c);
  checkLaunch(op, "sgdKernel");
}

void CudaBackend::adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor* vmax, const AdamParams& p) {
  const char* op = "adamUpdate";
  requirePlainF32(op, {&param, &grad, &m, &v, vmax});
  int64_t n = param.numel();
  AdamCoeffs c = adamCoeffs(p);
  if (c.amsgrad && !vmax) throw RangeErr("adamUpdate: amsgrad needs maxExpAvgSq");
  adamKernel<<<blocksFor(n), kThreads, 0, ctx(op).stream>>>(param.as<float>(), grad.as<float>(), m.as<float>(), v.as<float>(),
                                                            c.amsgrad ? vmax->as<float>() : nullptr, n, c);
  checkLaunch(op, "adamKernel");
}

void CudaBackend::adagradUpdate(const Tensor& param, const Tensor& grad, const Tensor& sum, const AdagradParams& p) {
  const char* op = "adagradUpdate";
  requirePlainF32(op, {&param, &grad, &sum});
  int64_t n = param.numel();
  adagradKernel<<<blocksFor(n), kThreads, 0, ctx(op).stream>>>(param.as<float>(), grad.as<float>(), sum.as<float>(), n, adagradCoeffs(p));
  checkLaunch(op, "adagradKernel");
}


// ---- multi-tensor updates: one launch over every parameter of a group (core/optim_multi.h) ----
// A device table lists each tensor's data pointers and size, and a chunk list gives every block a slice of
// one tensor, so a 1-element bias and a 2.4M-element filter both keep the GPU busy. The step's scalars
// come from the coefficients tensor on the device, so a captured graph replays with new ones.

namespace {

constexpr int64_t kChunk = 16384;  // elements per block: 64 per thread
constexpr size_t kMaxTables = 32;

struct DevTensor {
  float* p[kMultiSlots];
  int64_t n;
};
struct DevChunk {
  int64_t tensor;
  int64_t begin;
};

template <OptimKind K> struct Element;
template <> struct Element<OptimKind::sgd> {
  __device__ static void apply(const DevTensor& t, int64_t i, const OptimCoeffBlob& c) {
    sgdElement(t.p[0][i], t.p[1][i], t.p[2] ? t.p[2] + i : nullptr, c.sgd);
  }
};
template <> struct Element<OptimKind::adam> {
  __device__ static void apply(const DevTensor& t, int64_t i, const OptimCoeffBlob& c) {
    adamElement(t.p[0][i], t.p[1][i], t.p[2][i], t.p[3][i], t.p[4] ? t.p[4] + i : nullptr, c.adam);
  }
};
template <> struct Element<OptimKind::adagrad> {
  __device__ static void apply(const DevTensor& t, int64_t i, const OptimCoeffBlob& c) {
    adagradElement(t.p[0][i], t.p[1][i], t.p[2][i], c.adagrad);
  }
};

// One block per chunk. Coefficients of another kind (or momentum / amsgrad without its state) are a
// caller's error that only the device sees: recorded for the next read to report, and nothing is written.
template <OptimKind K>
__global__ void multiKernel(const DevTensor* tensors, const DevChunk* chunks, const OptimCoeffBlob* coeffs, bool optionalGiven,
                            DeviceFault* fault) {
  const OptimCoeffBlob c = *coeffs;
  bool wrongKind = c.kind != (uint32_t)K;
  bool missing = !wrongKind && optionalSlotNeeded(c) && !optionalGiven;
  if (wrongKind || missing) {
    if (blockIdx.x == 0 && threadIdx.x == 0) recordFault(fault, kFaultOptimCoeffs, (int)c.kind, (long long)K, missing ? 1 : 0);
    return;
  }
  const DevChunk ch = chunks[blockIdx.x];
  const DevTensor t = tensors[ch.tensor];
  int64_t end = ch.begin + kChunk < t.n ? ch.begin + kChunk : t.n;
  for (int64_t i = ch.begin + threadIdx.x; i < end; i += blockDim.x) Element<K>::apply(t, i, c);
}

// A pointer table in device memory: [DevTensor x tensors][DevChunk x chunks].
struct Table {
  std::vector<uint64_t> key;
  std::shared_ptr<void> mem;
  const DevTensor* tensors = nullptr;
  const DevChunk* chunks = nullptr;
  unsigned numChunks = 0;
};

struct TableCache {
  std::mutex mu;
  std::list<Table> lru;  // most recently used first
};
TableCache& tables() {
  static TableCache* c = new TableCache();  // never destroyed: graphs may outlive static destructors
  return *c;
}

std::vector<uint64_t> tableKey(const MultiTensorLists& l, bool optionalGiven) {
  std::vector<uint64_t> key{(uint64_t)l.kind, optionalGiven ? 1u : 0u};
  for (const MultiEntry& e : l.entries) {
    for (const Tensor* t : e) key.push_back((uint64_t)(uintptr_t)(t ? t->data() : nullptr));
    key.push_back((uint64_t)e[0]->numel());
  }
  return key;
}

Table buildTable(const char* op, const MultiTensorLists& l, std::vector<uint64_t> key, cudaStream_t stream) {
  requireNotCapturing(op, "building the pointer table of a multi-tensor update");
  std::vector<DevTensor> ts;
  std::vector<DevChunk> cs;
  for (const MultiEntry& e : l.entries) {
    DevTensor d{};
    for (int s = 0; s < kMultiSlots; s++) d.p[s] = e[s] ? e[s]->as<float>() : nullptr;
    d.n = e[0]->numel();
    for (int64_t b = 0; b < d.n; b += kChunk) cs.push_back(DevChunk{(int64_t)ts.size(), b});
    ts.push_back(d);
  }
  if (cs.size() > 0x7fffffffu) throw RangeErr(std::string(op) + ": too many elements for one launch");
  size_t tBytes = ts.size() * sizeof(DevTensor), bytes = tBytes + cs.size() * sizeof(DevChunk);
  Table t{std::move(key), deviceBuffer(op, bytes, "cudaMalloc (pointer table)")};
  void* p = t.mem.get();
  std::vector<char> host(bytes);
  std::memcpy(host.data(), ts.data(), tBytes);
  std::memcpy(host.data() + tBytes, cs.data(), bytes - tBytes);
  // On the backend's stream (ordered before the kernel); from pageable memory it returns once staged.
  checkCuda(cudaMemcpyAsync(p, host.data(), bytes, cudaMemcpyHostToDevice, stream), op, "cudaMemcpyAsync (pointer table)");
  t.tensors = static_cast<const DevTensor*>(p);
  t.chunks = reinterpret_cast<const DevChunk*>(static_cast<char*>(p) + tBytes);
  t.numChunks = (unsigned)cs.size();
  return t;
}

// The table for these lists, built on a miss; the least recently used one is dropped beyond kMaxTables
// (a graph that captured it keeps it: retainWhileCaptured).
Table tableFor(const char* op, const MultiTensorLists& l, bool optionalGiven, cudaStream_t stream) {
  std::vector<uint64_t> key = tableKey(l, optionalGiven);
  TableCache& c = tables();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto it = c.lru.begin(); it != c.lru.end(); ++it) {
    if (it->key != key) continue;
    c.lru.splice(c.lru.begin(), c.lru, it);
    return c.lru.front();
  }
  c.lru.push_front(buildTable(op, l, std::move(key), stream));
  if (c.lru.size() > kMaxTables) {
    // An update queued with the oldest table may still be running (a graph that captured it holds its own
    // reference; eviction only follows a build, which no capture allows).
    checkCuda(cudaStreamSynchronize(stream), op, "cudaStreamSynchronize (pointer table eviction)");
    c.lru.pop_back();
  }
  return c.lru.front();
}

template <OptimKind K>
void launchMulti(const Table& t, const OptimCoeffBlob* coeffs, bool optionalGiven, DeviceFault* fault, cudaStream_t s) {
  multiKernel<K><<<t.numChunks, kThreads, 0, s>>>(t.tensors, t.chunks, coeffs, optionalGiven, fault);
}

}  // namespace

void CudaBackend::optimizerUpdateMulti(const MultiTensorLists& l, const Tensor& coeffs) {
  const char* op = l.kind == OptimKind::sgd ? "sgdUpdateMulti" : l.kind == OptimKind::adam ? "adamUpdateMulti" : "adagradUpdateMulti";
  for (const MultiEntry& e : l.entries)
    for (const Tensor* t : e) requirePlainF32(op, {t});
  Context& c = ctx(op);
  int opt = optionalSlot(l.kind);
  bool optionalGiven = opt >= 0 && l.entries[0][opt] != nullptr;
  Table t = tableFor(op, l, optionalGiven, c.stream);
  if (t.numChunks == 0) return;  // every tensor empty
  retainWhileCaptured(t.mem);
  const auto* blob = coeffs.as<OptimCoeffBlob>();
  if (l.kind == OptimKind::sgd) launchMulti<OptimKind::sgd>(t, blob, optionalGiven, c.fault, c.stream);
  else if (l.kind == OptimKind::adam) launchMulti<OptimKind::adam>(t, blob, optionalGiven, c.fault, c.stream);
  else launchMulti<OptimKind::adagrad>(t, blob, optionalGiven, c.fault, c.stream);
  checkLaunch(op, "multiKernel");
}

}  // namespace vgg

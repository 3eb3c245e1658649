// Convolution on oneDNN. Activations are read and written in the layout they are stored in (the
// backend keeps them blocked between layers); weights are plain OIHW parameters, reordered to the
// layout each primitive wants once per weight version. Primitives are created once per shape.
//
// On this machine's AVX-512 build of oneDNN 2.6.3 every VGG16 shape gets a jit kernel in all three
// directions (the notes' AVX2 fallback for 512-channel 2x2 backward-weights does not occur here); when
// a primitive does come out as a reference kernel with the tensors' own layouts (e.g. backward-data
// into a plain 3-channel input), it is recreated with free activation layouts and reached through
// cached scratch buffers.
//
// bf16 (mixed precision): activations and weights bf16 in NHWC, fp32 bias and weight gradient; oneDNN
// runs its AMX kernels where the CPU has AMX (avx512_core_amx), else AVX512-BF16 or an AVX-512 emulation.
//
// Algorithm: oneDNN's Winograd F(4x4, 3x3) kernel (jit_wino_4x3) does 3x3 stride-1 convolutions with
// about a quarter of the multiplications. Measured here (bench/RESULTS.md, VGG16 batch 32, 1 thread)
// it is 1.3-2x faster than the direct kernel on maps of 8x8 and larger in all three directions and on
// 4x4 maps for backward-weights, and slower below that; its error against float64 is ~1e-6 relative
// (a few times the direct kernel's). Its scratchpad is large (up to ~130 MB for VGG16's 512-channel
// weight gradient on 4x4 maps at batch 32), one arena shared by all convolutions.
// VGG_CIFAR_CONV_ALGO=direct|winograd overrides the map rule.
#include <mutex>
#include <string>
#include <unordered_map>
#include "cpu/conv_cache.h"
#include "cpu/scratchpad.h"

namespace vgg {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

std::mutex gConvMutex;
ScratchArena gConvScratch;  // used under gConvMutex

enum Kind : int64_t { kFwd = 1, kBwdData = 2, kBwdWeights = 3, kBwdWeightsGemm = 4, kFwdGemm = 5, kBwdDataGemm = 6 };

CacheKey keyOf(Kind k, const Tensor& a, const Tensor& w, const Tensor& c, const ConvParams& p, bool bias, bool relu) {
  CacheKey key;
  int64_t* v = key.v;
  v[0] = k;
  for (int i = 0; i < 4; i++) {
    v[1 + i] = a.shape[i];
    v[5 + i] = w.shape[i];
    v[9 + i] = c.shape[i];
  }
  v[13] = (int64_t)a.layout;
  v[14] = (int64_t)c.layout;
  v[15] = p.strideH, v[16] = p.strideW, v[17] = p.padH, v[18] = p.padW;
  v[19] = bias, v[20] = relu;
  v[21] = (int64_t)a.dtype, v[22] = (int64_t)w.dtype;
  return key;
}

enum class ConvAlgo { automatic, direct, winograd };
ConvAlgo convAlgoMode() {
  static const auto mode = (ConvAlgo)envSwitch("VGG_CIFAR_CONV_ALGO", {"", "direct", "winograd"});
  return mode;
}
// Smallest output map (Ho * Wo) on which Winograd beats the direct kernel, per direction.
constexpr int64_t kWinogradMinMap = 64, kWinogradMinMapWeights = 16;

bool tryWinograd(Kind k, const Tensor& y, const Tensor& w, const ConvParams& p) {
  // oneDNN's Winograd kernel is fp32 only; bf16 runs the direct AMX / AVX512-BF16 kernels.
  if (y.dtype != DType::f32) return false;
  if (w.shape[2] != 3 || w.shape[3] != 3 || p.strideH != 1 || p.strideW != 1) return false;
  switch (convAlgoMode()) {
    case ConvAlgo::direct: return false;
    case ConvAlgo::winograd: return true;
    default: return y.shape[2] * y.shape[3] >= (k == kBwdWeights ? kWinogradMinMapWeights : kWinogradMinMap);
  }
}

memory::desc anyOf(const Tensor& t) {
  return memory::desc(memory::dims(t.shape.begin(), t.shape.end()), mdOf(t).data_type(), tag::any);
}
memory::desc anyOf(const Tensor& t, bool any) { return any ? anyOf(t) : mdOf(t); }
// t's shape in any layout with another data type (the bf16 weights a forward hint needs when the
// weight gradient is fp32).
memory::desc anyAs(const Tensor& t, dt type) { return memory::desc(memory::dims(t.shape.begin(), t.shape.end()), type, tag::any); }
memory::dims strides(const ConvParams& p) { return {p.strideH, p.strideW}; }
memory::dims pads(const ConvParams& p) { return {p.padH, p.padW}; }

// Symmetric padding and floor division, like PyTorch: oneDNN accepts pad_r = pad_l whenever
// (H + 2p - k) / s + 1 matches the destination by integer division.
dnnl::convolution_forward::primitive_desc forwardPd(const memory::desc& x, const memory::desc& w, const memory::desc* b,
                                                    const memory::desc& y, const ConvParams& p, bool relu, dnnl::algorithm alg) {
  auto d = b ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, x, w, *b, y, strides(p), pads(p), pads(p))
             : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, x, w, y, strides(p), pads(p), pads(p));
  dnnl::primitive_attr attr = ScratchArena::userMode();
  if (relu) {
    dnnl::post_ops po;
    po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(po);
  }
  return dnnl::convolution_forward::primitive_desc(d, attr, cpu().engine());
}

// Builds with the tensors' own layouts; falls back to free activation layouts when that is a ref kernel.
// With `winograd`, first tries Winograd in the tensors' own layouts and keeps it only when oneDNN has a
// jit kernel for it (it refuses some shapes); otherwise the direct algorithm as above.
template <class Make>
auto choosePd(bool winograd, Make make) {
  if (winograd) {
    try {
      auto pd = make(false, dnnl::algorithm::convolution_winograd);
      if (!isRef(pd)) return pd;
    } catch (const dnnl::error&) {
    }
  }
  auto pd = make(false, dnnl::algorithm::convolution_direct);
  if (isRef(pd)) {
    auto alt = make(true, dnnl::algorithm::convolution_direct);
    if (!isRef(alt)) return alt;
  }
  return pd;
}

struct FwdEntry {
  dnnl::convolution_forward prim;
  memory::desc wMd;
  memory scratch;
  ActOperand src, dst;
  memory wPlain, bias;
  std::unordered_map<int, memory> args;
};

struct BwdDataEntry {
  dnnl::convolution_backward_data prim;
  memory::desc wMd;
  memory scratch;
  ActOperand diffDst, diffSrc;
  memory wPlain;
  std::unordered_map<int, memory> args;
};

struct BwdWeightsEntry {
  dnnl::convolution_backward_weights prim;
  memory scratch;
  ActOperand src, diffDst, diffWeights;
  memory diffBias;
  std::unordered_map<int, memory> args;
};

template <class E>
using Cache = std::unordered_map<CacheKey, std::unique_ptr<E>, CacheKeyHash>;
Cache<FwdEntry> gFwd;
Cache<BwdDataEntry> gBwdData;
Cache<BwdWeightsEntry> gBwdWeights;
Cache<FilterGemm> gFilterGemm;
Cache<ForwardGemm> gForwardGemm;
Cache<BackwardDataGemm> gBackwardDataGemm;

// The cached entry for key, made by init(entry) on first use.
template <class E, class Init>
E& cached(Cache<E>& cache, const CacheKey& key, Init&& init) {
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  auto e = std::make_unique<E>();
  init(*e);
  return *(cache[key] = std::move(e));
}

memory::desc biasMd(int64_t O) { return memory::desc({O}, dt::f32, tag::a); }

FwdEntry& forwardEntry(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, const ConvParams& p, bool relu) {
  CacheKey key = keyOf(kFwd, x, w, y, p, b != nullptr, relu);
  auto it = gFwd.find(key);
  if (it != gFwd.end()) return *it->second;
  auto e = std::make_unique<FwdEntry>();
  memory::desc bmd = biasMd(w.shape[0]);
  auto pd = choosePd(tryWinograd(kFwd, y, w, p), [&](bool any, dnnl::algorithm alg) {
    return forwardPd(anyOf(x, any), anyOf(w), b ? &bmd : nullptr, anyOf(y, any), p, relu, alg);
  });
  e->prim = dnnl::convolution_forward(pd);
  e->wMd = pd.weights_desc();
  e->scratch = ScratchArena::slot(pd.scratchpad_desc());
  e->src.init(mdOf(x), pd.src_desc());
  e->dst.init(mdOf(y), pd.dst_desc());
  e->bias = memory(bmd, cpu().engine(), DNNL_MEMORY_NONE);
  return *(gFwd[key] = std::move(e));
}

BwdDataEntry& bwdDataEntry(const Tensor& dy, const Tensor& w, const Tensor& dx, const ConvParams& p) {
  CacheKey key = keyOf(kBwdData, dy, w, dx, p, false, false);
  auto it = gBwdData.find(key);
  if (it != gBwdData.end()) return *it->second;
  auto e = std::make_unique<BwdDataEntry>();
  auto pd = choosePd(tryWinograd(kBwdData, dy, w, p), [&](bool any, dnnl::algorithm alg) {
    memory::desc xmd = anyOf(dx, any), ymd = anyOf(dy, any);
    auto hint = forwardPd(xmd, anyOf(w), nullptr, ymd, p, false, alg);
    dnnl::convolution_backward_data::desc d(alg, xmd, anyOf(w), ymd, strides(p), pads(p), pads(p));
    return dnnl::convolution_backward_data::primitive_desc(d, ScratchArena::userMode(), cpu().engine(), hint);
  });
  e->prim = dnnl::convolution_backward_data(pd);
  e->wMd = pd.weights_desc();
  e->scratch = ScratchArena::slot(pd.scratchpad_desc());
  e->diffDst.init(mdOf(dy), pd.diff_dst_desc());
  e->diffSrc.init(mdOf(dx), pd.diff_src_desc());
  return *(gBwdData[key] = std::move(e));
}

BwdWeightsEntry& bwdWeightsEntry(const Tensor& x, const Tensor& dy, const Tensor& dw, bool bias, const ConvParams& p) {
  CacheKey key = keyOf(kBwdWeights, x, dw, dy, p, bias, false);
  auto it = gBwdWeights.find(key);
  if (it != gBwdWeights.end()) return *it->second;
  auto e = std::make_unique<BwdWeightsEntry>();
  memory::desc bmd = biasMd(dw.shape[0]);
  auto pd = choosePd(tryWinograd(kBwdWeights, dy, dw, p), [&](bool any, dnnl::algorithm alg) {
    memory::desc xmd = anyOf(x, any), ymd = anyOf(dy, any);
    auto hint = forwardPd(xmd, anyAs(dw, xmd.data_type()), bias ? &bmd : nullptr, ymd, p, false, alg);
    using D = dnnl::convolution_backward_weights::desc;
    D d = bias ? D(alg, xmd, anyOf(dw), bmd, ymd, strides(p), pads(p), pads(p)) : D(alg, xmd, anyOf(dw), ymd, strides(p), pads(p), pads(p));
    return dnnl::convolution_backward_weights::primitive_desc(d, ScratchArena::userMode(), cpu().engine(), hint);
  });
  e->prim = dnnl::convolution_backward_weights(pd);
  e->scratch = ScratchArena::slot(pd.scratchpad_desc());
  e->src.init(mdOf(x), pd.src_desc());
  e->diffDst.init(mdOf(dy), pd.diff_dst_desc());
  e->diffWeights.init(mdOf(dw), pd.diff_weights_desc());
  e->diffBias = memory(bmd, cpu().engine(), DNNL_MEMORY_NONE);
  return *(gBwdWeights[key] = std::move(e));
}

FilterGemm& filterGemmEntry(const Tensor& x, const Tensor& dy, const Tensor& dw, const ConvParams& p) {
  return cached(gFilterGemm, keyOf(kBwdWeightsGemm, x, dw, dy, p, false, false), [&](FilterGemm& e) { e.init(x, dy, dw, p); });
}

}  // namespace

std::string convAlgorithmInfo() {
  std::string gemm = convFilterGemmMode() == ConvFilterGemm::never ? "" : "; backward-filter on 2x2 maps with >= 256 channels: im2col + GEMM";
  gemm += amxKernels()
              ? "; bf16: direct NHWC kernels, and im2col + GEMM in all three directions on maps <= 4x4 with >= 256 channels"
              : "; bf16: direct NHWC kernels, and im2col + GEMM for backward-filter on maps <= 4x4 with >= 256 channels";
  switch (convAlgoMode()) {
    case ConvAlgo::direct: return "direct (VGG_CIFAR_CONV_ALGO=direct)" + gemm;
    case ConvAlgo::winograd: return "Winograd F(4x4,3x3) on every 3x3 stride-1 convolution oneDNN has it for (VGG_CIFAR_CONV_ALGO=winograd), else direct" + gemm;
    default:
      return "Winograd F(4x4,3x3) for 3x3 stride-1 convolutions on maps >= 8x8 (backward-filter >= 4x4) where oneDNN has it "
             "(AVX-512), else direct" + gemm;
  }
}

void CpuBackend::conv2dForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, const ConvParams& p, bool fuseRelu) {
  std::lock_guard<std::mutex> lock(gConvMutex);
  if (useDataGemm(x, y)) {
    dnnlCall("conv2dForward", "im2col matmul", [&] {
      cached(gForwardGemm, keyOf(kFwdGemm, x, w, y, p, b != nullptr, fuseRelu), [&](ForwardGemm& e) { e.init(x, w, b, y, p, fuseRelu); })
          .run(x, w, b, y, gConvScratch);
    });
    return;
  }
  dnnlCall("conv2dForward", "convolution_forward", [&] {
    FwdEntry& e = forwardEntry(x, w, b, y, p, fuseRelu);
    e.args[DNNL_ARG_SRC] = e.src.bind(x);
    e.args[DNNL_ARG_WEIGHTS] = weightsAs(w, e.wMd, e.wPlain);
    e.args[DNNL_ARG_DST] = e.dst.bind(y);
    if (b) {
      e.bias.set_data_handle(b->data());
      e.args[DNNL_ARG_BIAS] = e.bias;
    }
    gConvScratch.bind(e.scratch, e.args);
    e.src.pull();
    e.prim.execute(stream_, e.args);
    e.dst.push();
    stream_.wait();
  });
}

void CpuBackend::conv2dBackwardData(const Tensor& dy, const Tensor& w, const Tensor& dx, const ConvParams& p) {
  std::lock_guard<std::mutex> lock(gConvMutex);
  if (useDataGemm(dx, dy)) {
    dnnlCall("conv2dBackwardData", "matmul col2im", [&] {
      cached(gBackwardDataGemm, keyOf(kBwdDataGemm, dy, w, dx, p, false, false), [&](BackwardDataGemm& e) { e.init(dy, w, dx, p); })
          .run(dy, w, dx, gConvScratch);
    });
    return;
  }
  dnnlCall("conv2dBackwardData", "convolution_backward_data", [&] {
    BwdDataEntry& e = bwdDataEntry(dy, w, dx, p);
    e.args[DNNL_ARG_DIFF_DST] = e.diffDst.bind(dy);
    e.args[DNNL_ARG_WEIGHTS] = weightsAs(w, e.wMd, e.wPlain);
    e.args[DNNL_ARG_DIFF_SRC] = e.diffSrc.bind(dx);
    gConvScratch.bind(e.scratch, e.args);
    e.diffDst.pull();
    e.prim.execute(stream_, e.args);
    e.diffSrc.push();
    stream_.wait();
  });
}

void CpuBackend::conv2dBackwardFilter(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor* db, const ConvParams& p) {
  std::lock_guard<std::mutex> lock(gConvMutex);
  if (useFilterGemm(x, dy)) {
    dnnlCall("conv2dBackwardFilter", "im2col matmul", [&] { filterGemmEntry(x, dy, dw, p).run(x, dy, dw, db, gConvScratch); });
    return;
  }
  dnnlCall("conv2dBackwardFilter", "convolution_backward_weights", [&] {
    BwdWeightsEntry& e = bwdWeightsEntry(x, dy, dw, db != nullptr, p);
    e.args[DNNL_ARG_SRC] = e.src.bind(x);
    e.args[DNNL_ARG_DIFF_DST] = e.diffDst.bind(dy);
    e.args[DNNL_ARG_DIFF_WEIGHTS] = e.diffWeights.bind(dw);
    if (db) {
      e.diffBias.set_data_handle(db->data());
      e.args[DNNL_ARG_DIFF_BIAS] = e.diffBias;
    }
    gConvScratch.bind(e.scratch, e.args);
    e.src.pull();
    e.diffDst.pull();
    e.prim.execute(stream_, e.args);
    e.diffWeights.push();
    stream_.wait();
  });
}

}  // namespace vgg

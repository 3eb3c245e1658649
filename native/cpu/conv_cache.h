// Caches behind the convolution primitives: activation operands that go through a scratch buffer
// when the primitive wants another layout, and weights reordered once per version.
#pragma once
#include <initializer_list>
#include <string>
#include <unordered_map>
#include "cpu/cpu_backend.h"
#include "cpu/scratchpad.h"

namespace vgg {

// One activation operand of a cached primitive. When the tensor's own layout is the one the primitive
// wants, the primitive reads/writes the tensor in place; otherwise through a scratch buffer owned by
// the cache entry, with cached reorders in each direction.
struct ActOperand {
  dnnl::memory user, prim;
  dnnl::reorder toPrim, toUser;
  bool viaScratch = false;

  void init(const dnnl::memory::desc& userMd, const dnnl::memory::desc& primMd);
  // Points the operand at the tensor's data; returns the memory the primitive must use.
  dnnl::memory& bind(const Tensor& t);
  void pull();  // tensor -> scratch (inputs)
  void push();  // scratch -> tensor (outputs)
};

// The weights w (plain OIHW) in layout `want`: w itself when that is its own layout, else a copy
// reordered once per Storage::version and kept while w's storage lives.
dnnl::memory weightsAs(const Tensor& w, const dnnl::memory::desc& want, dnnl::memory& plainScratch);

// True when oneDNN picked a reference (slow) implementation.
template <class PD>
bool isRef(const PD& pd) {
  std::string s = pd.impl_info_str();
  return s.rfind("ref", 0) == 0 || s.find(":ref") != std::string::npos;
}

// Primitive cache key: a fixed array of integers (no allocation when looking up).
struct CacheKey {
  int64_t v[24] = {};
  bool operator==(const CacheKey& o) const {
    for (int i = 0; i < 24; i++)
      if (v[i] != o.v[i]) return false;
    return true;
  }
};
struct CacheKeyHash {
  size_t operator()(const CacheKey& k) const {
    uint64_t h = 1469598103934665603ull;
    for (int64_t x : k.v) h = (h ^ (uint64_t)x) * 1099511628211ull;
    return (size_t)h;
  }
};

}  // namespace vgg

namespace vgg {

// An override switch read from the environment: the index of its value in `choices` (choices[0] is
// the automatic rule, named ""), 0 when unset or not one of them.
int envSwitch(const char* name, std::initializer_list<const char*> choices);

// Backward-filter through im2col + GEMM (conv_gemm.cc). VGG_CIFAR_CONV_FILTER_GEMM=always|never
// overrides the shape rule (for benchmarks and tests).
enum class ConvFilterGemm { automatic, always, never };
ConvFilterGemm convFilterGemmMode();
// Measured on this machine (bench/RESULTS.md): the GEMM wins on 2x2 maps with many channels (512
// channels: 2.4x faster than oneDNN's direct kernel) and loses from 4x4 up.
constexpr int64_t kFilterGemmMaxMap = 4;        // Ho * Wo
constexpr int64_t kFilterGemmMinChannels = 256;  // input channels
// bf16: oneDNN 2.6's AMX kernels are slow on small maps. VGG16 batch 32, 2 threads, 512 channels on
// 4x4 maps: forward 2.5-6.8 ms direct against 2.1 as a GEMM, backward-data 4.6-12 against 1.9,
// backward-weights 9-20 against 2.1; on 8x8 maps (256 channels) the direct kernels win or tie
// (0.9 / 1.2 / 3.2 ms against 2.2 / 2.9 / 2.4-3.5).
constexpr int64_t kFilterGemmMaxMapBf16 = 16;
bool useFilterGemm(const Tensor& x, const Tensor& dy);
// The convolution algorithm policy in words (backends()' details, `vgg-cifar info`).
std::string convAlgorithmInfo();

// bf16 forward and backward-data through im2col + GEMM on small maps, where oneDNN 2.6's AMX kernels
// are slower than its AMX matmul (figures above); with AMX only: with AVX512-BF16 alone (oneDNN capped
// by DNNL_MAX_CPU_ISA here) the direct kernels win on 4x4 maps (forward 12.3 ms against 14.9 as a GEMM,
// backward-data 11.7 against 15.8, 512 channels, batch 32) and tie on 2x2, while the filter GEMM still
// wins on 2x2 (3.8 against 8.9) and ties on 4x4. VGG_CIFAR_CONV_DATA_GEMM=always|never overrides the rule.
enum class ConvDataGemm { automatic, always, never };
ConvDataGemm convDataGemmMode();
constexpr int64_t kDataGemmMaxMapBf16 = 16;  // Ho * Wo
bool useDataGemm(const Tensor& x, const Tensor& y);

// The geometry of a convolution seen as GEMMs over P = N*Ho*Wo output positions and K = C*kh*kw taps
// (ordered (c, i, j) like a plain OIHW weight row).
struct ConvGeometry {
  int64_t N, C, H, W, O, kh, kw, Ho, Wo;
  ConvParams prm;
  void init(const Tensor& x, const Tensor& w, const Tensor& y, const ConvParams& p);
  int64_t P() const { return N * Ho * Wo; }
  int64_t K() const { return C * kh * kw; }
  // cols[P, K] from NHWC x (zeros in the padding).
  template <class T>
  void im2col(const T* x, T* cols) const;
  // NHWC dx = the sum over taps of dcols[P, K] (fp32 sums, one rounding into T).
  template <class T>
  void col2im(const float* dcols, T* dx) const;
};

// y = conv(x, w) + b (ReLU): cols = im2col(x); y[P, O] = cols * w^T, y in NHWC.
struct ForwardGemm {
  ConvGeometry g;
  ActOperand src, dst;  // x and y in NHWC
  dnnl::memory cols, wMat, bias, yMat;
  dnnl::matmul gemm;
  dnnl::memory scratch;
  std::unordered_map<int, dnnl::memory> args;
  void init(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, const ConvParams& p, bool relu);
  void run(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, ScratchArena& arena);
};

// dx = col2im(dy[P, O] * w[O, K]).
struct BackwardDataGemm {
  ConvGeometry g;
  ActOperand diffDst, diffSrc;  // dy and dx in NHWC
  dnnl::memory dcols, wMat, dyMat;
  dnnl::matmul gemm;
  dnnl::memory scratch;
  std::unordered_map<int, dnnl::memory> args;
  void init(const Tensor& dy, const Tensor& w, const Tensor& dx, const ConvParams& p);
  void run(const Tensor& dy, const Tensor& w, const Tensor& dx, ScratchArena& arena);
};

struct FilterGemm {
  ConvGeometry g;
  ActOperand src, diffDst;  // x and dy in NHWC
  dnnl::memory cols, dyT, dwMat;
  dnnl::matmul gemm;
  dnnl::memory scratch;
  std::unordered_map<int, dnnl::memory> args;
  void init(const Tensor& x, const Tensor& dy, const Tensor& dw, const ConvParams& p);
  void run(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor* db, ScratchArena& arena);
};

}  // namespace vgg

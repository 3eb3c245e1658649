// Caches behind the convolution primitives: activation operands that go through a scratch buffer
// when the primitive wants another layout, and weights reordered once per version.
#pragma once
#include <unordered_map>
#include "cpu/cpu_backend.h"

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

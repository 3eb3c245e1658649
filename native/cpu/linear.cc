// Linear layers on oneDNN matmul (a jit GEMM here), one cached primitive per shape and direction:
//   forward      y[N,M]  = x[N,K] * w^T[K,M] + b  (w read through transposed strides, no copy)
//   backward     dx[N,K] = dy[N,M] * w[M,K]
//                dw[M,K] = dy^T[M,N] * x[N,K]       (dy read through transposed strides)
//                db[M]   = column sums of dy         (a plain loop)
// bf16: A and B bf16 (AMX / AVX512-BF16 GEMM), C bf16 for y and dx, fp32 for dw; bias and db fp32.
#include <mutex>
#include <unordered_map>
#include "cpu/conv_cache.h"
#include "cpu/typed.h"

namespace vgg {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

std::mutex gLinearMutex;
ScratchArena gLinearScratch;  // used under gLinearMutex

struct MatmulEntry {
  dnnl::matmul prim;
  memory scratch;
  memory src, wei, bias, dst;
  std::unordered_map<int, memory> args;
};
std::unordered_map<CacheKey, std::unique_ptr<MatmulEntry>, CacheKeyHash> gMatmuls;

// C[m,n] = A[m,k] B[k,n] (+ bias[n]) with A and B given by their strides; C is dense row-major.
// `in` is the type of A and B, `out` the type of C.
MatmulEntry& matmulEntry(int64_t kind, int64_t m, int64_t k, int64_t n, const memory::dims& aStrides, const memory::dims& bStrides,
                         bool bias, bool relu, dt in, dt out) {
  CacheKey key;
  int64_t* v = key.v;
  v[0] = kind, v[1] = m, v[2] = k, v[3] = n, v[4] = bias, v[5] = relu;
  v[6] = aStrides[0], v[7] = aStrides[1], v[8] = bStrides[0], v[9] = bStrides[1];
  v[10] = (int64_t)in, v[11] = (int64_t)out;
  auto it = gMatmuls.find(key);
  if (it != gMatmuls.end()) return *it->second;
  auto e = std::make_unique<MatmulEntry>();
  memory::desc a({m, k}, in, aStrides), b({k, n}, in, bStrides), c({m, n}, out, tag::ab), bi({1, n}, dt::f32, tag::ab);
  dnnl::primitive_attr attr = ScratchArena::userMode();
  if (relu) {
    dnnl::post_ops po;
    po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(po);
  }
  auto d = bias ? dnnl::matmul::desc(a, b, bi, c) : dnnl::matmul::desc(a, b, c);
  dnnl::matmul::primitive_desc pd(d, attr, cpu().engine());
  e->prim = dnnl::matmul(pd);
  e->scratch = ScratchArena::slot(pd.scratchpad_desc());
  dnnl::engine& eng = cpu().engine();
  e->src = memory(a, eng, DNNL_MEMORY_NONE);
  e->wei = memory(b, eng, DNNL_MEMORY_NONE);
  e->dst = memory(c, eng, DNNL_MEMORY_NONE);
  e->bias = memory(bi, eng, DNNL_MEMORY_NONE);
  return *(gMatmuls[key] = std::move(e));
}

void run(MatmulEntry& e, const void* a, const void* b, const void* bias, void* c) {
  e.src.set_data_handle(const_cast<void*>(a));
  e.wei.set_data_handle(const_cast<void*>(b));
  e.dst.set_data_handle(c);
  e.args[DNNL_ARG_SRC] = e.src;
  e.args[DNNL_ARG_WEIGHTS] = e.wei;
  e.args[DNNL_ARG_DST] = e.dst;
  if (bias) {
    e.bias.set_data_handle(const_cast<void*>(bias));
    e.args[DNNL_ARG_BIAS] = e.bias;
  }
  gLinearScratch.bind(e.scratch, e.args);
  e.prim.execute(cpu().stream(), e.args);
  cpu().stream().wait();
}

dt typeOf(const Tensor& t) { return t.dtype == DType::bf16 ? dt::bf16 : dt::f32; }

}  // namespace

void CpuBackend::linearForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, bool fuseRelu) {
  std::lock_guard<std::mutex> lock(gLinearMutex);
  int64_t N = x.shape[0], K = x.shape[1], M = w.shape[0];
  dnnlCall("linearForward", "matmul", [&] {
    MatmulEntry& e = matmulEntry(1, N, K, M, {K, 1}, {1, K}, b != nullptr, fuseRelu, typeOf(x), typeOf(y));
    run(e, x.data(), w.data(), b ? b->data() : nullptr, y.data());
  });
}

void CpuBackend::linearBackward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor* dx, const Tensor& dw, const Tensor* db) {
  std::lock_guard<std::mutex> lock(gLinearMutex);
  int64_t N = x.shape[0], K = x.shape[1], M = w.shape[0];
  dnnlCall("linearBackward", "matmul", [&] {
    const dt in = typeOf(x);
    if (dx) run(matmulEntry(2, N, M, K, {M, 1}, {K, 1}, false, false, in, in), dy.data(), w.data(), nullptr, dx->data());
    run(matmulEntry(3, M, N, K, {1, M}, {K, 1}, false, false, in, typeOf(dw)), dy.data(), x.data(), nullptr, dw.data());
  });
  if (db) byDType(dy, [&](auto t) { columnSums(dy.as<decltype(t)>(), N, M, db->as<float>()); });
}

}  // namespace vgg

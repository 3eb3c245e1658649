// Convolution backward-filter as im2col + one GEMM, for the small-map, many-channel layers where
// oneDNN 2.6's direct kernel is slow on this machine (VGG16's three 512-channel convs on 2x2 maps run
// at ~20% of peak there, 2.4x slower than this GEMM; from 4x4 maps up the direct kernel wins):
//   dw[O, C*kh*kw] = dy^T[O, P] * cols[P, C*kh*kw],   P = N*Ho*Wo,   db[O] = column sums of dy
// x and dy are first brought to NHWC (a no-op when they already are); cols is ordered (c, i, j) so
// that the GEMM writes the plain OIHW dw directly (dw is the largest operand: no second pass over it).
#include <cstdlib>
#include <string>
#include "core/elementwise.h"
#include "cpu/conv_cache.h"

namespace vgg {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

int envSwitch(const char* name, std::initializer_list<const char*> choices) {
  const char* s = std::getenv(name);
  int i = 0;
  for (const char* c : choices) {
    if (s && std::string(s) == c) return i;
    i++;
  }
  return 0;
}

ConvFilterGemm convFilterGemmMode() {
  static const auto mode = (ConvFilterGemm)envSwitch("VGG_CIFAR_CONV_FILTER_GEMM", {"", "always", "never"});
  return mode;
}

bool useFilterGemm(const Tensor& x, const Tensor& dy) {
  switch (convFilterGemmMode()) {
    case ConvFilterGemm::always: return true;
    case ConvFilterGemm::never: return false;
    default:
      return dy.shape[2] * dy.shape[3] <= (x.dtype == DType::bf16 ? kFilterGemmMaxMapBf16 : kFilterGemmMaxMap) &&
             x.shape[1] >= kFilterGemmMinChannels;
  }
}

void FilterGemm::init(const Tensor& x, const Tensor& dy, const Tensor& dw, const ConvParams& p) {
  dnnl::engine& eng = cpu().engine();
  N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  O = dw.shape[0], kh = dw.shape[2], kw = dw.shape[3], Ho = dy.shape[2], Wo = dy.shape[3];
  prm = p;
  bf16 = x.dtype == DType::bf16;
  int64_t P = N * Ho * Wo, K = kh * kw * C;
  memory::dims xd(x.shape.begin(), x.shape.end()), yd(dy.shape.begin(), dy.shape.end()), wd(dw.shape.begin(), dw.shape.end());
  const dt in = mdOf(x).data_type(), out = mdOf(dw).data_type();
  src.init(mdOf(x), memory::desc(xd, in, tag::nhwc));
  diffDst.init(mdOf(dy), memory::desc(yd, in, tag::nhwc));
  cols = memory(memory::desc({P, K}, in, tag::ab), eng);
  memory::desc a({O, P}, in, memory::dims{1, O}), b({P, K}, in, tag::ab), c({O, K}, out, tag::ab);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), ScratchArena::userMode(), eng);
  gemm = dnnl::matmul(pd);
  scratch = ScratchArena::slot(pd.scratchpad_desc());
  dyT = memory(a, eng, DNNL_MEMORY_NONE);
  dwMat = memory(c, eng, DNNL_MEMORY_NONE);
  args = {{DNNL_ARG_SRC, dyT}, {DNNL_ARG_WEIGHTS, cols}, {DNNL_ARG_DST, dwMat}};
}

template <class T>
void FilterGemm::im2col() {
  const T* xs = static_cast<const T*>(src.prim.get_data_handle());
  T* out = static_cast<T*>(cols.get_data_handle());
  const int64_t K = kh * kw * C;
#pragma omp parallel for collapse(2)
  for (int64_t n = 0; n < N; n++)
    for (int64_t oh = 0; oh < Ho; oh++)
      for (int64_t ow = 0; ow < Wo; ow++) {
        T* row = out + ((n * Ho + oh) * Wo + ow) * K;
        for (int64_t i = 0; i < kh; i++) {
          int64_t ih = oh * prm.strideH - prm.padH + i;
          for (int64_t j = 0; j < kw; j++) {
            int64_t iw = ow * prm.strideW - prm.padW + j;
            T* dst = row + i * kw + j;
            const int64_t step = kh * kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
              for (int64_t c = 0; c < C; c++) dst[c * step] = T{};  // +0 in float32 and in bf16 bits
            } else {
              const T* in = xs + ((n * H + ih) * W + iw) * C;
              for (int64_t c = 0; c < C; c++) dst[c * step] = in[c];
            }
          }
        }
      }
}

void FilterGemm::run(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor* db, ScratchArena& arena) {
  dnnl::stream& s = cpu().stream();
  src.bind(x);
  diffDst.bind(dy);
  src.pull();
  diffDst.pull();
  s.wait();
  if (bf16) im2col<uint16_t>();
  else im2col<float>();
  dyT.set_data_handle(diffDst.prim.get_data_handle());
  dwMat.set_data_handle(dw.data());
  arena.bind(scratch, args);
  gemm.execute(s, args);
  s.wait();
  if (db) {
    if (bf16) biasGrad(static_cast<const uint16_t*>(diffDst.prim.get_data_handle()), db->as<float>());
    else biasGrad(static_cast<const float*>(diffDst.prim.get_data_handle()), db->as<float>());
  }
}

template <class T>
void FilterGemm::biasGrad(const T* g, float* out) const {
  const int64_t P = N * Ho * Wo;
  for (int64_t o = 0; o < O; o++) out[o] = 0;
  for (int64_t q = 0; q < P; q++)
    for (int64_t o = 0; o < O; o++) out[o] += loadFloat(g[q * O + o]);
}

}  // namespace vgg

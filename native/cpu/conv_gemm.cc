// Convolutions as im2col + one GEMM, for the small-map, many-channel layers where oneDNN 2.6's
// kernels are slow on this machine (rules and figures in conv_cache.h):
//   backward-filter (fp32 on 2x2 maps, bf16 up to 4x4):
//     dw[O, C*kh*kw] = dy^T[O, P] * cols[P, C*kh*kw],   P = N*Ho*Wo,   db[O] = column sums of dy
//   forward (bf16):        y[P, O] = cols[P, K] * w^T[K, O] (+ bias, ReLU)   (y in NHWC is [P, O])
//   backward-data (bf16):  dcols[P, K] = dy[P, O] * w[O, K] in fp32, then col2im with one rounding
// x, y and dy are first brought to NHWC (a no-op when they already are); cols is ordered (c, i, j) so
// that the GEMMs read and write the plain OIHW weights directly (no second pass over dw, the largest
// operand).
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>
#include "cpu/conv_cache.h"
#include "cpu/typed.h"

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

ConvDataGemm convDataGemmMode() {
  static const auto mode = (ConvDataGemm)envSwitch("VGG_CIFAR_CONV_DATA_GEMM", {"", "always", "never"});
  return mode;
}

bool useDataGemm(const Tensor& x, const Tensor& y) {
  if (x.dtype != DType::bf16) return false;
  switch (convDataGemmMode()) {
    case ConvDataGemm::always: return true;
    case ConvDataGemm::never: return false;
    default: {
      // Only AMX's direct kernels are the slow ones; with AVX512-BF16 alone the direct kernels win.
      static const bool amx = amxKernels();
      return amx && y.shape[2] * y.shape[3] <= kDataGemmMaxMapBf16 && x.shape[1] >= kFilterGemmMinChannels;
    }
  }
}

void ConvGeometry::init(const Tensor& x, const Tensor& w, const Tensor& y, const ConvParams& p) {
  N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  O = w.shape[0], kh = w.shape[2], kw = w.shape[3], Ho = y.shape[2], Wo = y.shape[3];
  prm = p;
}

template <class T>
void ConvGeometry::im2col(const T* x, T* cols) const {
  // Row by row: the row's taps as source pointers (a zero row in the padding), then one sequential
  // pass over the row's K = C * taps entries (a strided write per tap would not vectorize).
  const int64_t K = this->K(), taps = kh * kw;
  std::vector<T> zeros((size_t)C, T{});  // +0 in float32 and in bf16 bits
#pragma omp parallel for collapse(2)
  for (int64_t n = 0; n < N; n++)
    for (int64_t oh = 0; oh < Ho; oh++) {
      std::vector<const T*> src((size_t)taps);
      for (int64_t ow = 0; ow < Wo; ow++) {
        for (int64_t i = 0; i < kh; i++)
          for (int64_t j = 0; j < kw; j++) {
            const int64_t ih = oh * prm.strideH - prm.padH + i, iw = ow * prm.strideW - prm.padW + j;
            const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
            src[i * kw + j] = inside ? x + ((n * H + ih) * W + iw) * C : zeros.data();
          }
        T* row = cols + ((n * Ho + oh) * Wo + ow) * K;
        if (taps == 9) {
          for (int64_t c = 0; c < C; c++)
            for (int t = 0; t < 9; t++) row[c * 9 + t] = src[t][c];
        } else {
          for (int64_t c = 0; c < C; c++)
            for (int64_t t = 0; t < taps; t++) row[c * taps + t] = src[t][c];
        }
      }
    }
}

template <class T>
void ConvGeometry::col2im(const float* dcols, T* dx) const {
  // Gathers, for each input pixel, the taps of the output positions that read it (no write races, one
  // rounding per element).
  const int64_t K = this->K(), step = kh * kw;
#pragma omp parallel for collapse(2)
  for (int64_t n = 0; n < N; n++)
    for (int64_t ih = 0; ih < H; ih++)
      for (int64_t iw = 0; iw < W; iw++) {
        float acc[1024];
        for (int64_t c0 = 0; c0 < C; c0 += 1024) {
          const int64_t cn = std::min<int64_t>(1024, C - c0);
          for (int64_t c = 0; c < cn; c++) acc[c] = 0.0f;
          for (int64_t i = 0; i < kh; i++) {
            const int64_t ohs = ih + prm.padH - i;
            if (ohs < 0 || ohs % prm.strideH) continue;
            const int64_t oh = ohs / prm.strideH;
            if (oh >= Ho) continue;
            for (int64_t j = 0; j < kw; j++) {
              const int64_t ows = iw + prm.padW - j;
              if (ows < 0 || ows % prm.strideW) continue;
              const int64_t ow = ows / prm.strideW;
              if (ow >= Wo) continue;
              const float* src = dcols + ((n * Ho + oh) * Wo + ow) * K + (c0 * kh + i) * kw + j;
              for (int64_t c = 0; c < cn; c++) acc[c] += src[c * step];
            }
          }
          T* out = dx + ((n * H + ih) * W + iw) * C + c0;
          for (int64_t c = 0; c < cn; c++) storeFloat(out + c, acc[c]);
        }
      }
}

void ForwardGemm::init(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, const ConvParams& p, bool relu) {
  dnnl::engine& eng = cpu().engine();
  g.init(x, w, y, p);
  const int64_t P = g.P(), K = g.K();
  const dt in = mdOf(x).data_type();
  src.init(mdOf(x), memory::desc(memory::dims(x.shape.begin(), x.shape.end()), in, tag::nhwc));
  dst.init(mdOf(y), memory::desc(memory::dims(y.shape.begin(), y.shape.end()), in, tag::nhwc));
  cols = memory(memory::desc({P, K}, in, tag::ab), eng);
  memory::desc a({P, K}, in, tag::ab), wt({K, g.O}, in, memory::dims{1, K}), c({P, g.O}, in, tag::ab), bi({1, g.O}, dt::f32, tag::ab);
  dnnl::primitive_attr attr = ScratchArena::userMode();
  if (relu) {
    dnnl::post_ops po;
    po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(po);
  }
  dnnl::matmul::primitive_desc pd(b ? dnnl::matmul::desc(a, wt, bi, c) : dnnl::matmul::desc(a, wt, c), attr, eng);
  gemm = dnnl::matmul(pd);
  scratch = ScratchArena::slot(pd.scratchpad_desc());
  wMat = memory(wt, eng, DNNL_MEMORY_NONE);
  bias = memory(bi, eng, DNNL_MEMORY_NONE);
  yMat = memory(c, eng, DNNL_MEMORY_NONE);
  args = {{DNNL_ARG_SRC, cols}, {DNNL_ARG_WEIGHTS, wMat}, {DNNL_ARG_DST, yMat}};
  if (b) args[DNNL_ARG_BIAS] = bias;
}

void ForwardGemm::run(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, ScratchArena& arena) {
  dnnl::stream& s = cpu().stream();
  src.bind(x);
  dst.bind(y);
  src.pull();
  s.wait();
  g.im2col(static_cast<const uint16_t*>(src.prim.get_data_handle()), static_cast<uint16_t*>(cols.get_data_handle()));
  wMat.set_data_handle(w.data());
  if (b) bias.set_data_handle(b->data());
  yMat.set_data_handle(dst.prim.get_data_handle());
  arena.bind(scratch, args);
  gemm.execute(s, args);
  dst.push();
  s.wait();
}

void BackwardDataGemm::init(const Tensor& dy, const Tensor& w, const Tensor& dx, const ConvParams& p) {
  dnnl::engine& eng = cpu().engine();
  g.init(dx, w, dy, p);
  const int64_t P = g.P(), K = g.K();
  const dt in = mdOf(dy).data_type();
  diffDst.init(mdOf(dy), memory::desc(memory::dims(dy.shape.begin(), dy.shape.end()), in, tag::nhwc));
  diffSrc.init(mdOf(dx), memory::desc(memory::dims(dx.shape.begin(), dx.shape.end()), in, tag::nhwc));
  dcols = memory(memory::desc({P, K}, dt::f32, tag::ab), eng);
  memory::desc a({P, g.O}, in, tag::ab), wm({g.O, K}, in, tag::ab), c({P, K}, dt::f32, tag::ab);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, wm, c), ScratchArena::userMode(), eng);
  gemm = dnnl::matmul(pd);
  scratch = ScratchArena::slot(pd.scratchpad_desc());
  dyMat = memory(a, eng, DNNL_MEMORY_NONE);
  wMat = memory(wm, eng, DNNL_MEMORY_NONE);
  args = {{DNNL_ARG_SRC, dyMat}, {DNNL_ARG_WEIGHTS, wMat}, {DNNL_ARG_DST, dcols}};
}

void BackwardDataGemm::run(const Tensor& dy, const Tensor& w, const Tensor& dx, ScratchArena& arena) {
  dnnl::stream& s = cpu().stream();
  diffDst.bind(dy);
  diffSrc.bind(dx);
  diffDst.pull();
  dyMat.set_data_handle(diffDst.prim.get_data_handle());
  wMat.set_data_handle(w.data());
  arena.bind(scratch, args);
  gemm.execute(s, args);
  s.wait();
  g.col2im(static_cast<const float*>(dcols.get_data_handle()), static_cast<uint16_t*>(diffSrc.prim.get_data_handle()));
  diffSrc.push();
  s.wait();
}

void FilterGemm::init(const Tensor& x, const Tensor& dy, const Tensor& dw, const ConvParams& p) {
  dnnl::engine& eng = cpu().engine();
  g.init(x, dw, dy, p);
  const int64_t P = g.P(), K = g.K(), O = g.O;
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

void FilterGemm::run(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor* db, ScratchArena& arena) {
  dnnl::stream& s = cpu().stream();
  src.bind(x);
  diffDst.bind(dy);
  src.pull();
  diffDst.pull();
  s.wait();
  byDType(x, [&](auto t) {
    using T = decltype(t);
    g.im2col(static_cast<const T*>(src.prim.get_data_handle()), static_cast<T*>(cols.get_data_handle()));
  });
  dyT.set_data_handle(diffDst.prim.get_data_handle());
  dwMat.set_data_handle(dw.data());
  arena.bind(scratch, args);
  gemm.execute(s, args);
  s.wait();
  if (db) byDType(dy, [&](auto t) { columnSums(static_cast<const decltype(t)*>(diffDst.prim.get_data_handle()), g.P(), g.O, db->as<float>()); });
}

}  // namespace vgg

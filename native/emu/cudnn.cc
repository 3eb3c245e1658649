// The CUDA emulator's stand-in for cuDNN (native/emu/README.md): the legacy calls the CUDA backend makes,
// computed with plain loops in float64 on the CPU. It checks our host code's use of cuDNN (descriptors,
// argument order, alpha/beta, formats), not NVIDIA's kernels. The *Ex BatchNorm calls are here too, with a
// reserve space that the forward fills and the backward checks (so a backward handed another forward's reserve
// aborts, naming it); the graph (backend) API is in cudnn_graph.cc, which runs its convolutions through the
// loops here (cudnn_common.h).
//
// Every call validates at once and enqueues its work on the handle's stream, capturing values only:
// alpha/beta point at the caller's locals, and descriptors may be destroyed or reused before a
// captured graph replays.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>
#include "core/elementwise.h"
#include "emu/cudnn_common.h"
#include "emu/stream.h"

namespace {

using namespace vgg::cu;

using emu::ConvGeom;
using emu::Shape4;

struct PoolGeom {
  int winH = 1, winW = 1, padH = 0, padW = 0, strideH = 1, strideW = 1;
  bool propagateNan = false;
};

}  // namespace

// The opaque types api.h declares (the handle's is in cudnn_common.h).
struct cudnnTensorStruct {
  bool set = false;
  Shape4 s;
};
struct cudnnFilterStruct {
  bool set = false;
  Shape4 s;
};
struct cudnnConvolutionStruct {
  bool set = false;
  ConvGeom g;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};
struct cudnnPoolingStruct {
  bool set = false;
  PoolGeom g;
};
struct cudnnActivationStruct {
  bool set = false;
  cudnnActivationMode_t mode = CUDNN_ACTIVATION_RELU;
};

namespace emu {
namespace {

using namespace vgg::cu;

// ---------- status and its message ----------

// What cudnnGetLastErrorString reports: why the last call of this thread failed.
thread_local std::string lastError;

}  // namespace

cudnnStatus_t fail(cudnnStatus_t s, const std::string& why) {
  lastError = why;
  return s;
}
cudnnStatus_t bad(const std::string& why) { return fail(CUDNN_STATUS_BAD_PARAM, why); }

namespace {

size_t cudnnGetVersion(void) { return 91900; }
size_t cudnnGetCudartVersion(void) { return 13000; }
cudnnStatus_t cudnnOpsVersionCheck(void) { return CUDNN_STATUS_SUCCESS; }
cudnnStatus_t cudnnCnnVersionCheck(void) { return CUDNN_STATUS_SUCCESS; }

const char* cudnnGetErrorString(cudnnStatus_t s) {
  switch ((int)s) {  // an int: kNotInitialized is no enumerator of api.h's cudnnStatus_t
    case CUDNN_STATUS_SUCCESS: return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
    case CUDNN_STATUS_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
    case kNotInitialized: return "CUDNN_STATUS_NOT_INITIALIZED";
  }
  return "CUDNN_UNKNOWN_STATUS";
}

void cudnnGetLastErrorString(char* message, size_t max) {
  if (!message || max == 0) return;
  size_t n = std::min(lastError.size(), max - 1);
  std::memcpy(message, lastError.data(), n);
  message[n] = '\0';
}

// ---------- handles ----------

cudnnStatus_t cudnnCreate(cudnnHandle_t* h) {
  if (!h) return bad("cudnnCreate: handle pointer is null");
  *h = new cudnnContext;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroy(cudnnHandle_t h) {
  if (!h) return bad("cudnnDestroy: handle is null");
  delete h;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetStream(cudnnHandle_t h, cudaStream_t s) {
  if (!h) return bad("cudnnSetStream: handle is null");
  h->stream = s;
  return CUDNN_STATUS_SUCCESS;
}

// ---------- descriptors ----------

template <class T>
cudnnStatus_t create(T** d, const char* call) {
  if (!d) return bad(std::string(call) + ": descriptor pointer is null");
  *d = new T;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t checkType(cudnnDataType_t t, const char* call) {
  if (t == CUDNN_DATA_FLOAT || t == CUDNN_DATA_BFLOAT16) return CUDNN_STATUS_SUCCESS;
  if (t == CUDNN_DATA_HALF) return fail(CUDNN_STATUS_NOT_SUPPORTED, std::string(call) + ": the emulator has no half precision");
  return bad(std::string(call) + ": unknown data type " + std::to_string((int)t));
}

// Dims, format and type of a tensor or filter; cuDNN's legacy tensors hold at most 2^31-1 elements.
cudnnStatus_t makeShape(Shape4* out, cudnnTensorFormat_t f, cudnnDataType_t t, int n, int c, int h, int w, const char* call) {
  if (cudnnStatus_t s = checkType(t, call)) return s;
  if (f != CUDNN_TENSOR_NCHW && f != CUDNN_TENSOR_NHWC) return bad(std::string(call) + ": unknown format " + std::to_string((int)f));
  if (n <= 0 || c <= 0 || h <= 0 || w <= 0)
    return bad(std::string(call) + ": dimensions must be positive, got " + std::to_string(n) + "x" + std::to_string(c) + "x" +
               std::to_string(h) + "x" + std::to_string(w));
  Shape4 s{t, f == CUDNN_TENSOR_NHWC, n, c, h, w};
  if (s.count() > INT32_MAX) return fail(CUDNN_STATUS_NOT_SUPPORTED, std::string(call) + ": more than 2^31-1 elements");
  *out = s;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* d) { return create(d, "cudnnCreateTensorDescriptor"); }
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t f, cudnnDataType_t t, int n, int c, int h, int w) {
  if (!d) return bad("cudnnSetTensor4dDescriptor: descriptor is null");
  if (cudnnStatus_t s = makeShape(&d->s, f, t, n, c, h, w, "cudnnSetTensor4dDescriptor")) return s;
  d->set = true;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* d) { return create(d, "cudnnCreateFilterDescriptor"); }
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t t, cudnnTensorFormat_t f, int k, int c, int r, int s) {
  if (!d) return bad("cudnnSetFilter4dDescriptor: descriptor is null");
  if (cudnnStatus_t st = makeShape(&d->s, f, t, k, c, r, s, "cudnnSetFilter4dDescriptor")) return st;
  d->set = true;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* d) { return create(d, "cudnnCreateConvolutionDescriptor"); }
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int padH, int padW, int u, int v, int dilH, int dilW,
                                              cudnnConvolutionMode_t mode, cudnnDataType_t computeType) {
  const char* call = "cudnnSetConvolution2dDescriptor";
  if (!d) return bad(std::string(call) + ": descriptor is null");
  if (padH < 0 || padW < 0) return bad(std::string(call) + ": negative padding");
  if (u <= 0 || v <= 0) return bad(std::string(call) + ": strides must be positive");
  if (dilH <= 0 || dilW <= 0) return bad(std::string(call) + ": dilations must be positive");
  if (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION) return bad(std::string(call) + ": unknown mode");
  if (cudnnStatus_t s = checkType(computeType, call)) return s;
  d->g = ConvGeom{padH, padW, u, v, dilH, dilW, mode == CUDNN_CONVOLUTION};
  d->set = true;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t m) {
  if (!d) return bad("cudnnSetConvolutionMathType: descriptor is null");
  if (m < CUDNN_DEFAULT_MATH || m > CUDNN_FMA_MATH) return bad("cudnnSetConvolutionMathType: unknown math type " + std::to_string((int)m));
  d->math = m;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreatePoolingDescriptor(cudnnPoolingDescriptor_t* d) { return create(d, "cudnnCreatePoolingDescriptor"); }
cudnnStatus_t cudnnDestroyPoolingDescriptor(cudnnPoolingDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetPooling2dDescriptor(cudnnPoolingDescriptor_t d, cudnnPoolingMode_t mode, cudnnNanPropagation_t nan, int winH, int winW,
                                          int padH, int padW, int strideH, int strideW) {
  const char* call = "cudnnSetPooling2dDescriptor";
  if (!d) return bad(std::string(call) + ": descriptor is null");
  // 1 and 2 are cuDNN's average-pooling modes: real, but not emulated.
  if (mode == 1 || mode == 2) return fail(CUDNN_STATUS_NOT_SUPPORTED, std::string(call) + ": the emulator pools by maximum only");
  if (mode != CUDNN_POOLING_MAX && mode != CUDNN_POOLING_MAX_DETERMINISTIC) return bad(std::string(call) + ": unknown mode");
  if (nan != CUDNN_NOT_PROPAGATE_NAN && nan != CUDNN_PROPAGATE_NAN) return bad(std::string(call) + ": unknown NaN propagation");
  if (winH <= 0 || winW <= 0 || strideH <= 0 || strideW <= 0) return bad(std::string(call) + ": window and strides must be positive");
  if (padH < 0 || padW < 0) return bad(std::string(call) + ": negative padding");
  d->g = PoolGeom{winH, winW, padH, padW, strideH, strideW, nan == CUDNN_PROPAGATE_NAN};
  d->set = true;
  return CUDNN_STATUS_SUCCESS;
}

// ---------- element access ----------

inline float loadAt(cudnnDataType_t t, const void* p, int64_t i) {
  return t == CUDNN_DATA_BFLOAT16 ? vgg::bf16ToFloat(static_cast<const uint16_t*>(p)[i]) : static_cast<const float*>(p)[i];
}
inline void storeAt(cudnnDataType_t t, void* p, int64_t i, float v) {
  if (t == CUDNN_DATA_BFLOAT16) static_cast<uint16_t*>(p)[i] = vgg::floatToBf16(v);
  else static_cast<float*>(p)[i] = v;
}

// A tensor as float (exact for both dtypes) in NHWC order, whatever its format: the loops below then
// run over contiguous channels.
std::vector<float> loadNhwc(const Shape4& s, const void* p) {
  std::vector<float> out((size_t)s.count());
  size_t i = 0;
  for (int n = 0; n < s.n; n++)
    for (int h = 0; h < s.h; h++)
      for (int w = 0; w < s.w; w++)
        for (int c = 0; c < s.c; c++) out[i++] = loadAt(s.type, p, s.offset(n, c, h, w));
  return out;
}

// out = alpha * value + beta * out, rounded once to out's type; out is read only when beta != 0 (it may
// hold garbage, NaN included, otherwise). value(n, c, h, w) gives the result in float64.
template <class Value>
void storeBlend(const Shape4& s, void* p, double alpha, double beta, Value value) {
  for (int n = 0; n < s.n; n++)
    for (int h = 0; h < s.h; h++)
      for (int w = 0; w < s.w; w++)
        for (int c = 0; c < s.c; c++) {
          int64_t o = s.offset(n, c, h, w);
          double r = alpha * value(n, c, h, w);
          if (beta != 0) r += beta * (double)loadAt(s.type, p, o);
          storeAt(s.type, p, o, (float)r);
        }
}

}  // namespace

// storeBlend from an NHWC float64 buffer of s's dims.
void storeNhwc(const Shape4& s, void* p, double alpha, double beta, const std::vector<double>& v) {
  const double* d = v.data();
  storeBlend(s, p, alpha, beta, [&](int n, int c, int h, int w) { return d[(((int64_t)n * s.h + h) * s.w + w) * s.c + c]; });
}

namespace {

// ---------- convolution ----------

// Validates the descriptors of one convolution and gathers them by value.
cudnnStatus_t convJob(ConvJob* job, cudnnTensorDescriptor_t xD, cudnnFilterDescriptor_t wD, cudnnConvolutionDescriptor_t cD,
                      cudnnTensorDescriptor_t yD, const char* call) {
  std::string c(call);
  if (!xD || !wD || !cD || !yD) return bad(c + ": a descriptor is null");
  if (!xD->set || !wD->set || !cD->set || !yD->set) return bad(c + ": a descriptor was never set");
  const Shape4 &x = xD->s, &w = wD->s, &y = yD->s;
  const ConvGeom& g = cD->g;
  if (x.c != w.c) return bad(c + ": input has " + std::to_string(x.c) + " channels, the filter " + std::to_string(w.c) + " (groups are 1)");
  int64_t spanH = (int64_t)(w.h - 1) * g.dilH + 1, spanW = (int64_t)(w.w - 1) * g.dilW + 1;
  int64_t inH = x.h + 2LL * g.padH, inW = x.w + 2LL * g.padW;
  if (inH < spanH || inW < spanW) return bad(c + ": the dilated filter is larger than the padded input");
  Shape4 want = y;
  want.n = x.n;
  want.c = w.n;
  want.h = (int)((inH - spanH) / g.strideH + 1);
  want.w = (int)((inW - spanW) / g.strideW + 1);
  if (!want.sameDims(y)) return bad(c + ": output is " + y.dims() + " but the convolution of " + x.dims() + " gives " + want.dims());
  *job = ConvJob{x, w, y, g};
  return CUDNN_STATUS_SUCCESS;
}

// The filter as float in [r][s][c][k] order (kInner) or [r][s][k][c], rotated when the mode convolves,
// so that all three passes index it the same way as cross-correlation.
std::vector<float> loadFilter(const Shape4& f, const void* p, bool flip, bool kInner) {
  const int K = f.n, C = f.c, R = f.h, S = f.w;
  std::vector<float> out((size_t)f.count());
  for (int r = 0; r < R; r++)
    for (int s = 0; s < S; s++)
      for (int k = 0; k < K; k++)
        for (int c = 0; c < C; c++) {
          size_t i = kInner ? (((size_t)r * S + s) * C + c) * K + k : (((size_t)r * S + s) * K + k) * C + c;
          out[i] = loadAt(f.type, p, flip ? f.offset(k, c, R - 1 - r, S - 1 - s) : f.offset(k, c, r, s));
        }
  return out;
}

// The input coordinate output position o reads through filter tap t (may fall in the padding).
inline int inCoord(int o, int stride, int pad, int t, int dil) { return o * stride - pad + t * dil; }

// The walk all three passes share: tap(n, oh, ow, r, s, ih, iw) for every output position and filter tap
// that reads an input pixel (not the padding), in the order n, oh, r, s, ow.
template <class Tap>
void forEachTap(const ConvJob& j, Tap&& tap) {
  const ConvGeom& g = j.g;
  for (int n = 0; n < j.x.n; n++)
    for (int oh = 0; oh < j.y.h; oh++)
      for (int r = 0; r < j.w.h; r++) {
        int ih = inCoord(oh, g.strideH, g.padH, r, g.dilH);
        if (ih < 0 || ih >= j.x.h) continue;
        for (int s = 0; s < j.w.w; s++)
          for (int ow = 0; ow < j.y.w; ow++) {
            int iw = inCoord(ow, g.strideW, g.padW, s, g.dilW);
            if (iw >= 0 && iw < j.x.w) tap(n, oh, ow, r, s, ih, iw);
          }
      }
}

}  // namespace

// y[n,oh,ow,k] = sum over r, s, c of x[n, ih, iw, c] * w[r, s, c, k], the innermost loop over k (contiguous in
// both y and the filter). Activations and gradients are held NHWC, so a pixel's channels are contiguous.
std::vector<double> convSums(const ConvJob& j, const void* xp, const void* wp) {
  const int C = j.x.c, H = j.x.h, W = j.x.w, K = j.w.n, S = j.w.w, OH = j.y.h, OW = j.y.w;
  std::vector<float> x = loadNhwc(j.x, xp), w = loadFilter(j.w, wp, j.g.flip, true);
  std::vector<double> y((size_t)j.x.n * OH * OW * K, 0.0);
  forEachTap(j, [&](int n, int oh, int ow, int r, int s, int ih, int iw) {
    const float* px = &x[(((size_t)n * H + ih) * W + iw) * C];
    double* out = &y[(((size_t)n * OH + oh) * OW + ow) * K];
    for (int c = 0; c < C; c++) {
      const double a = px[c];
      const float* wk = &w[(((size_t)r * S + s) * C + c) * K];
      for (int k = 0; k < K; k++) out[k] += a * (double)wk[k];
    }
  });
  return y;
}

namespace {

void convForward(const ConvJob& j, const void* xp, const void* wp, void* yp, double alpha, double beta) {
  storeNhwc(j.y, yp, alpha, beta, convSums(j, xp, wp));
}

// dx[n,ih,iw,c] = sum of dy[n,oh,ow,k] * w[r,s,k,c] over the taps that read (ih, iw), the innermost loop over c.
void convBackwardData(const ConvJob& j, const void* wp, const void* dyp, void* dxp, double alpha, double beta) {
  const int C = j.x.c, H = j.x.h, W = j.x.w, K = j.w.n, S = j.w.w, OH = j.y.h, OW = j.y.w;
  std::vector<float> dy = loadNhwc(j.y, dyp), w = loadFilter(j.w, wp, j.g.flip, false);
  std::vector<double> dx((size_t)j.x.n * H * W * C, 0.0);
  forEachTap(j, [&](int n, int oh, int ow, int r, int s, int ih, int iw) {
    const float* pdy = &dy[(((size_t)n * OH + oh) * OW + ow) * K];
    double* out = &dx[(((size_t)n * H + ih) * W + iw) * C];
    for (int k = 0; k < K; k++) {
      const double a = pdy[k];
      const float* wc = &w[(((size_t)r * S + s) * K + k) * C];
      for (int c = 0; c < C; c++) out[c] += a * (double)wc[c];
    }
  });
  storeNhwc(j.x, dxp, alpha, beta, dx);
}

// dw[r,s,c,k] = sum over n, oh, ow of x[n, ih, iw, c] * dy[n, oh, ow, k], the innermost loop over k.
void convBackwardFilter(const ConvJob& j, const void* xp, const void* dyp, void* dwp, double alpha, double beta) {
  const int C = j.x.c, H = j.x.h, W = j.x.w, K = j.w.n, R = j.w.h, S = j.w.w, OH = j.y.h, OW = j.y.w;
  const ConvGeom& g = j.g;
  std::vector<float> x = loadNhwc(j.x, xp), dy = loadNhwc(j.y, dyp);
  std::vector<double> dw((size_t)R * S * C * K, 0.0);
  forEachTap(j, [&](int n, int oh, int ow, int r, int s, int ih, int iw) {
    const float* px = &x[(((size_t)n * H + ih) * W + iw) * C];
    const float* pdy = &dy[(((size_t)n * OH + oh) * OW + ow) * K];
    for (int c = 0; c < C; c++) {
      const double a = px[c];
      double* acc = &dw[(((size_t)r * S + s) * C + c) * K];
      for (int k = 0; k < K; k++) acc[k] += a * (double)pdy[k];
    }
  });
  // acc's taps are in cross-correlation order; a convolving filter stores them rotated back.
  storeBlend(j.w, dwp, alpha, beta, [&](int k, int c, int r, int s) {
    if (g.flip) r = R - 1 - r, s = S - 1 - s;
    return dw[(((size_t)r * S + s) * C + c) * K + k];
  });
}

// Reads *alpha and *beta (host floats for float and bfloat16 data) now: the caller's locals are gone by a replay.
cudnnStatus_t scales(const void* alpha, const void* beta, double* a, double* b, const char* call) {
  if (!alpha || !beta) return bad(std::string(call) + ": alpha or beta is null");
  *a = *static_cast<const float*>(alpha);
  *b = *static_cast<const float*>(beta);
  return CUDNN_STATUS_SUCCESS;
}

// What the three convolution calls check before they enqueue: the handle, the descriptors (into *j), alpha
// and beta (into *a, *b), and their three data pointers (`names` says which they are).
cudnnStatus_t convCall(cudnnHandle_t h, ConvJob* j, double* a, double* b, cudnnTensorDescriptor_t xD, cudnnFilterDescriptor_t wD,
                       cudnnConvolutionDescriptor_t cD, cudnnTensorDescriptor_t yD, const void* alpha, const void* beta,
                       std::initializer_list<const void*> data, const char* names, const char* call) {
  if (!h) return bad(std::string(call) + ": handle is null");
  if (cudnnStatus_t s = convJob(j, xD, wD, cD, yD, call)) return s;
  if (cudnnStatus_t s = scales(alpha, beta, a, b, call)) return s;
  for (const void* p : data)
    if (!p) return bad(std::string(call) + ": " + names + " is null");
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t h, const void* alpha, cudnnTensorDescriptor_t xD, const void* x, cudnnFilterDescriptor_t wD,
                                      const void* w, cudnnConvolutionDescriptor_t cD, cudnnConvolutionFwdAlgo_t, void*, size_t,
                                      const void* beta, cudnnTensorDescriptor_t yD, void* y) {
  ConvJob j;
  double a, b;
  if (cudnnStatus_t s = convCall(h, &j, &a, &b, xD, wD, cD, yD, alpha, beta, {x, w, y}, "x, w or y", "cudnnConvolutionForward")) return s;
  enqueue(h->stream, [j, x, w, y, a, b] { convForward(j, x, w, y, a, b); });
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t h, const void* alpha, cudnnFilterDescriptor_t wD, const void* w,
                                           cudnnTensorDescriptor_t dyD, const void* dy, cudnnConvolutionDescriptor_t cD,
                                           cudnnConvolutionBwdDataAlgo_t, void*, size_t, const void* beta, cudnnTensorDescriptor_t dxD, void* dx) {
  ConvJob j;
  double a, b;
  if (cudnnStatus_t s = convCall(h, &j, &a, &b, dxD, wD, cD, dyD, alpha, beta, {w, dy, dx}, "w, dy or dx", "cudnnConvolutionBackwardData"))
    return s;
  enqueue(h->stream, [j, w, dy, dx, a, b] { convBackwardData(j, w, dy, dx, a, b); });
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t h, const void* alpha, cudnnTensorDescriptor_t xD, const void* x,
                                             cudnnTensorDescriptor_t dyD, const void* dy, cudnnConvolutionDescriptor_t cD,
                                             cudnnConvolutionBwdFilterAlgo_t, void*, size_t, const void* beta, cudnnFilterDescriptor_t dwD,
                                             void* dw) {
  ConvJob j;
  double a, b;
  if (cudnnStatus_t s = convCall(h, &j, &a, &b, xD, dwD, cD, dyD, alpha, beta, {x, dy, dw}, "x, dy or dw", "cudnnConvolutionBackwardFilter"))
    return s;
  enqueue(h->stream, [j, x, dy, dw, a, b] { convBackwardFilter(j, x, dy, dw, a, b); });
  return CUDNN_STATUS_SUCCESS;
}

// The Find*Ex calls check what the later call will and report one algorithm (ours). Nothing runs:
// the real ones write the output only as scratch, so skipping that is allowed.
template <class Perf>
cudnnStatus_t findOne(cudnnHandle_t h, cudnnStatus_t geometry, cudnnConvolutionDescriptor_t cD, const void* a, const void* b, const void* out,
                      int requested, int* returned, Perf* perf, const char* call) {
  if (!h) return bad(std::string(call) + ": handle is null");
  if (geometry) return geometry;
  if (!a || !b || !out) return bad(std::string(call) + ": a data pointer is null");
  if (requested < 1 || !returned || !perf) return bad(std::string(call) + ": no room for results");
  perf[0] = Perf{};
  perf[0].algo = decltype(Perf::algo)(1);
  perf[0].status = CUDNN_STATUS_SUCCESS;
  perf[0].time = 0.01f;
  perf[0].memory = 0;
  perf[0].determinism = CUDNN_DETERMINISTIC;
  perf[0].mathType = cD->math;
  *returned = 1;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(cudnnHandle_t h, cudnnTensorDescriptor_t xD, const void* x, cudnnFilterDescriptor_t wD,
                                                     const void* w, cudnnConvolutionDescriptor_t cD, cudnnTensorDescriptor_t yD, void* y,
                                                     int requested, int* returned, cudnnConvolutionFwdAlgoPerf_t* perf, void*, size_t) {
  const char* call = "cudnnFindConvolutionForwardAlgorithmEx";
  ConvJob j;
  return findOne(h, convJob(&j, xD, wD, cD, yD, call), cD, x, w, y, requested, returned, perf, call);
}
cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(cudnnHandle_t h, cudnnFilterDescriptor_t wD, const void* w,
                                                          cudnnTensorDescriptor_t dyD, const void* dy, cudnnConvolutionDescriptor_t cD,
                                                          cudnnTensorDescriptor_t dxD, void* dx, int requested, int* returned,
                                                          cudnnConvolutionBwdDataAlgoPerf_t* perf, void*, size_t) {
  const char* call = "cudnnFindConvolutionBackwardDataAlgorithmEx";
  ConvJob j;
  return findOne(h, convJob(&j, dxD, wD, cD, dyD, call), cD, w, dy, dx, requested, returned, perf, call);
}
cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(cudnnHandle_t h, cudnnTensorDescriptor_t xD, const void* x,
                                                            cudnnTensorDescriptor_t dyD, const void* dy, cudnnConvolutionDescriptor_t cD,
                                                            cudnnFilterDescriptor_t dwD, void* dw, int requested, int* returned,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t* perf, void*, size_t) {
  const char* call = "cudnnFindConvolutionBackwardFilterAlgorithmEx";
  ConvJob j;
  return findOne(h, convJob(&j, xD, dwD, cD, dyD, call), cD, x, dy, dw, requested, returned, perf, call);
}

// ---------- max pooling ----------

struct PoolJob {
  Shape4 x, y;
  PoolGeom g;
};

cudnnStatus_t poolJob(PoolJob* job, cudnnPoolingDescriptor_t pD, cudnnTensorDescriptor_t xD, cudnnTensorDescriptor_t yD, const char* call) {
  std::string c(call);
  if (!pD || !xD || !yD) return bad(c + ": a descriptor is null");
  if (!pD->set || !xD->set || !yD->set) return bad(c + ": a descriptor was never set");
  const PoolGeom& g = pD->g;
  const Shape4 &x = xD->s, &y = yD->s;
  int64_t inH = x.h + 2LL * g.padH, inW = x.w + 2LL * g.padW;
  if (inH < g.winH || inW < g.winW) return bad(c + ": the window is larger than the padded input");
  Shape4 want = y;
  want.n = x.n;
  want.c = x.c;
  want.h = (int)((inH - g.winH) / g.strideH + 1);
  want.w = (int)((inW - g.winW) / g.strideW + 1);
  if (!want.sameDims(y)) return bad(c + ": output is " + y.dims() + " but pooling " + x.dims() + " gives " + want.dims());
  *job = PoolJob{x, y, g};
  return CUDNN_STATUS_SUCCESS;
}

// For each output element, the NHWC index into x of its window's first maximum (rows scanned top to
// bottom, each left to right; padding is no candidate), or -1 for a window of padding only. With NaN
// propagation the first NaN is the maximum; without it NaNs lose to any number.
std::vector<int64_t> poolArgmax(const PoolJob& j, const std::vector<float>& x) {
  const int N = j.x.n, C = j.x.c, H = j.x.h, W = j.x.w, OH = j.y.h, OW = j.y.w;
  const PoolGeom& g = j.g;
  std::vector<int64_t> arg((size_t)N * OH * OW * C, -1);
  std::vector<float> best(C);
  for (int n = 0; n < N; n++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        int64_t* a = &arg[(((size_t)n * OH + oh) * OW + ow) * C];
        for (int kh = 0; kh < g.winH; kh++) {
          int ih = oh * g.strideH - g.padH + kh;
          if (ih < 0 || ih >= H) continue;
          for (int kw = 0; kw < g.winW; kw++) {
            int iw = ow * g.strideW - g.padW + kw;
            if (iw < 0 || iw >= W) continue;
            int64_t base = (((int64_t)n * H + ih) * W + iw) * C;
            for (int c = 0; c < C; c++) {
              float v = x[base + c];
              bool take = a[c] < 0 || v > best[c] ||
                          (g.propagateNan ? std::isnan(v) && !std::isnan(best[c]) : std::isnan(best[c]) && !std::isnan(v));
              if (take) a[c] = base + c, best[c] = v;
            }
          }
        }
      }
  return arg;
}

void poolForward(const PoolJob& j, const void* xp, void* yp, double alpha, double beta) {
  std::vector<float> x = loadNhwc(j.x, xp);
  std::vector<int64_t> arg = poolArgmax(j, x);
  const Shape4& y = j.y;
  storeBlend(y, yp, alpha, beta, [&](int n, int c, int h, int w) {
    int64_t a = arg[(((size_t)n * y.h + h) * y.w + w) * y.c + c];
    return a < 0 ? 0.0 : (double)x[a];
  });
}

// Each dy goes to its window's maximum in x (overlapping windows add up); dx elements no window
// picked get 0.
void poolBackward(const PoolJob& j, const Shape4& dyS, const void* dyp, const void* xp, const Shape4& dxS, void* dxp, double alpha,
                  double beta) {
  std::vector<float> x = loadNhwc(j.x, xp), dy = loadNhwc(dyS, dyp);
  std::vector<int64_t> arg = poolArgmax(j, x);
  std::vector<double> dx(x.size(), 0.0);
  for (size_t i = 0; i < arg.size(); i++)
    if (arg[i] >= 0) dx[arg[i]] += dy[i];
  storeNhwc(dxS, dxp, alpha, beta, dx);
}

cudnnStatus_t cudnnPoolingForward(cudnnHandle_t h, cudnnPoolingDescriptor_t pD, const void* alpha, cudnnTensorDescriptor_t xD, const void* x,
                                  const void* beta, cudnnTensorDescriptor_t yD, void* y) {
  const char* call = "cudnnPoolingForward";
  if (!h) return bad(std::string(call) + ": handle is null");
  PoolJob j;
  double a, b;
  if (cudnnStatus_t s = poolJob(&j, pD, xD, yD, call)) return s;
  if (cudnnStatus_t s = scales(alpha, beta, &a, &b, call)) return s;
  if (!x || !y) return bad(std::string(call) + ": x or y is null");
  enqueue(h->stream, [j, x, y, a, b] { poolForward(j, x, y, a, b); });
  return CUDNN_STATUS_SUCCESS;
}

// y is not needed: the maximum is found again from x.
cudnnStatus_t cudnnPoolingBackward(cudnnHandle_t h, cudnnPoolingDescriptor_t pD, const void* alpha, cudnnTensorDescriptor_t yD, const void*,
                                   cudnnTensorDescriptor_t dyD, const void* dy, cudnnTensorDescriptor_t xD, const void* x, const void* beta,
                                   cudnnTensorDescriptor_t dxD, void* dx) {
  const char* call = "cudnnPoolingBackward";
  if (!h) return bad(std::string(call) + ": handle is null");
  PoolJob j;
  double a, b;
  if (cudnnStatus_t s = poolJob(&j, pD, xD, yD, call)) return s;
  if (!dyD || !dxD || !dyD->set || !dxD->set) return bad(std::string(call) + ": dy or dx descriptor is null or unset");
  if (!dyD->s.sameDims(yD->s) || !dxD->s.sameDims(xD->s)) return bad(std::string(call) + ": dy must match y and dx must match x");
  if (cudnnStatus_t s = scales(alpha, beta, &a, &b, call)) return s;
  if (!dy || !x || !dx) return bad(std::string(call) + ": dy, x or dx is null");
  Shape4 dyS = dyD->s, dxS = dxD->s;
  enqueue(h->stream, [j, dyS, dy, x, dxS, dx, a, b] { poolBackward(j, dyS, dy, x, dxS, dx, a, b); });
  return CUDNN_STATUS_SUCCESS;
}

// ---------- batch normalization (spatial) ----------

struct BnJob {
  Shape4 x, y;  // y: the output (forward) or dx (backward)
  int64_t M;    // elements per channel: N*H*W
};

// x and y of one shape, the per-channel tensor 1xCx1x1 float (what cudnnDeriveBNTensorDescriptor gives).
cudnnStatus_t bnJob(BnJob* job, cudnnBatchNormMode_t mode, cudnnTensorDescriptor_t xD, cudnnTensorDescriptor_t yD, cudnnTensorDescriptor_t pD,
                    const char* call) {
  std::string c(call);
  if (mode == CUDNN_BATCHNORM_PER_ACTIVATION) return fail(CUDNN_STATUS_NOT_SUPPORTED, c + ": the emulator has spatial modes only");
  if (mode != CUDNN_BATCHNORM_SPATIAL && mode != CUDNN_BATCHNORM_SPATIAL_PERSISTENT) return bad(c + ": unknown mode");
  if (!xD || !yD || !pD) return bad(c + ": a descriptor is null");
  if (!xD->set || !yD->set || !pD->set) return bad(c + ": a descriptor was never set");
  if (!xD->s.sameDims(yD->s)) return bad(c + ": x is " + xD->s.dims() + " but the output is " + yD->s.dims());
  const Shape4& p = pD->s;
  if (p.n != 1 || p.c != xD->s.c || p.h != 1 || p.w != 1 || p.type != CUDNN_DATA_FLOAT)
    return bad(c + ": the scale/bias/mean/variance descriptor must be 1x" + std::to_string(xD->s.c) + "x1x1 float");
  *job = BnJob{xD->s, yD->s, (int64_t)xD->s.n * xD->s.h * xD->s.w};
  return CUDNN_STATUS_SUCCESS;
}

// Per-channel mean and biased variance of x (NHWC rows of C), two passes in float64.
void channelStats(const std::vector<float>& x, int C, int64_t M, std::vector<double>& mean, std::vector<double>& var) {
  mean.assign(C, 0.0);
  var.assign(C, 0.0);
  for (int64_t m = 0; m < M; m++)
    for (int c = 0; c < C; c++) mean[c] += x[m * C + c];
  for (int c = 0; c < C; c++) mean[c] /= (double)M;
  for (int64_t m = 0; m < M; m++)
    for (int c = 0; c < C; c++) {
      double d = x[m * C + c] - mean[c];
      var[c] += d * d;
    }
  for (int c = 0; c < C; c++) var[c] /= (double)M;
}

// y = gamma * (x - mean) * invStd + bias, blended into y.
void bnApply(const BnJob& j, const std::vector<float>& x, const std::vector<double>& mean, const std::vector<double>& invStd,
             const float* gamma, const float* bias, void* yp, double alpha, double beta) {
  const int C = j.x.c;
  std::vector<double> y(x.size());
  for (int64_t m = 0; m < j.M; m++)
    for (int c = 0; c < C; c++) y[m * C + c] = (double)gamma[c] * ((x[m * C + c] - mean[c]) * invStd[c]) + (double)bias[c];
  storeNhwc(j.y, yp, alpha, beta, y);
}

struct BnTrainArgs {
  const void* x;
  void* y;
  const float *gamma, *bias;
  double factor, eps;
  float *runMean, *runVar, *saveMean, *saveInvStd;
};

void bnTrain(const BnJob& j, const BnTrainArgs& a, double alpha, double beta) {
  const int C = j.x.c;
  std::vector<float> x = loadNhwc(j.x, a.x);
  std::vector<double> mean, var, invStd(C);
  channelStats(x, C, j.M, mean, var);
  for (int c = 0; c < C; c++) invStd[c] = 1.0 / std::sqrt(var[c] + a.eps);
  bnApply(j, x, mean, invStd, a.gamma, a.bias, a.y, alpha, beta);
  // The running variance takes the unbiased estimate (as cuDNN documents and PyTorch does); a channel of
  // one element keeps the biased one (0), as core/batchnorm_math.h does.
  const double unbias = j.M > 1 ? (double)j.M / (double)(j.M - 1) : 1.0, f = a.factor;
  for (int c = 0; c < C; c++) {
    if (a.runMean) {
      a.runMean[c] = (float)((1.0 - f) * a.runMean[c] + f * mean[c]);
      a.runVar[c] = (float)((1.0 - f) * a.runVar[c] + f * var[c] * unbias);
    }
    if (a.saveMean) {
      a.saveMean[c] = (float)mean[c];
      a.saveInvStd[c] = (float)invStd[c];
    }
  }
}

cudnnStatus_t cudnnBatchNormalizationForwardTraining(cudnnHandle_t h, cudnnBatchNormMode_t mode, const void* alpha, const void* beta,
                                                     cudnnTensorDescriptor_t xD, const void* x, cudnnTensorDescriptor_t yD, void* y,
                                                     cudnnTensorDescriptor_t pD, const void* scale, const void* bias, double factor,
                                                     void* runMean, void* runVar, double eps, void* saveMean, void* saveInvStd) {
  const char* call = "cudnnBatchNormalizationForwardTraining";
  if (!h) return bad(std::string(call) + ": handle is null");
  BnJob j;
  double a, b;
  if (cudnnStatus_t s = bnJob(&j, mode, xD, yD, pD, call)) return s;
  if (cudnnStatus_t s = scales(alpha, beta, &a, &b, call)) return s;
  if (!x || !y || !scale || !bias) return bad(std::string(call) + ": x, y, scale or bias is null");
  // NVIDIA: each pair "can be NULL but only at the same time".
  if (!runMean != !runVar) return bad(std::string(call) + ": only one of the running mean and variance is null");
  if (!saveMean != !saveInvStd) return bad(std::string(call) + ": only one of the saved mean and inverse variance is null");
  if (!(eps >= 0)) return bad(std::string(call) + ": epsilon must be at least CUDNN_BN_MIN_EPSILON (0)");
  BnTrainArgs args{x, y, (const float*)scale, (const float*)bias, factor, eps, (float*)runMean, (float*)runVar, (float*)saveMean,
                   (float*)saveInvStd};
  enqueue(h->stream, [j, args, a, b] { bnTrain(j, args, a, b); });
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBatchNormalizationForwardInference(cudnnHandle_t h, cudnnBatchNormMode_t mode, const void* alpha, const void* beta,
                                                      cudnnTensorDescriptor_t xD, const void* x, cudnnTensorDescriptor_t yD, void* y,
                                                      cudnnTensorDescriptor_t pD, const void* scale, const void* bias, const void* estMean,
                                                      const void* estVar, double eps) {
  const char* call = "cudnnBatchNormalizationForwardInference";
  if (!h) return bad(std::string(call) + ": handle is null");
  BnJob j;
  double a, b;
  if (cudnnStatus_t s = bnJob(&j, mode, xD, yD, pD, call)) return s;
  if (cudnnStatus_t s = scales(alpha, beta, &a, &b, call)) return s;
  if (!x || !y || !scale || !bias || !estMean || !estVar) return bad(std::string(call) + ": a data pointer is null");
  if (!(eps >= 0)) return bad(std::string(call) + ": epsilon must be at least CUDNN_BN_MIN_EPSILON (0)");
  const float *g = (const float*)scale, *bi = (const float*)bias, *em = (const float*)estMean, *ev = (const float*)estVar;
  enqueue(h->stream, [j, x, y, g, bi, em, ev, eps, a, b] {
    const int C = j.x.c;
    std::vector<double> mean(C), invStd(C);
    for (int c = 0; c < C; c++) mean[c] = em[c], invStd[c] = 1.0 / std::sqrt((double)ev[c] + eps);
    bnApply(j, loadNhwc(j.x, x), mean, invStd, g, bi, y, a, b);
  });
  return CUDNN_STATUS_SUCCESS;
}

struct BnBackArgs {
  Shape4 dy;
  const void *x, *dyp;
  void* dx;
  const float* gamma;
  float *dGamma, *dBias;
  double eps;
  const float *savedMean, *savedInvStd;  // both null: recompute from x
  double alphaData, betaData, alphaParam, betaParam;
};

// Training-mode backward: dbias = sum(dy), dgamma = sum(dy * xhat),
// dx = gamma * invStd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)).
void bnBackward(const BnJob& j, const BnBackArgs& a) {
  const int C = j.x.c;
  const int64_t M = j.M;
  std::vector<float> x = loadNhwc(j.x, a.x), dy = loadNhwc(a.dy, a.dyp);
  std::vector<double> mean, invStd(C);
  if (a.savedMean) {
    mean.assign(a.savedMean, a.savedMean + C);
    invStd.assign(a.savedInvStd, a.savedInvStd + C);
  } else {
    std::vector<double> var;
    channelStats(x, C, M, mean, var);
    for (int c = 0; c < C; c++) invStd[c] = 1.0 / std::sqrt(var[c] + a.eps);
  }
  std::vector<double> sumDy(C, 0.0), sumDyXhat(C, 0.0);
  for (int64_t m = 0; m < M; m++)
    for (int c = 0; c < C; c++) {
      double d = dy[m * C + c];
      sumDy[c] += d;
      sumDyXhat[c] += d * ((x[m * C + c] - mean[c]) * invStd[c]);
    }
  std::vector<double> dx(x.size());
  for (int64_t m = 0; m < M; m++)
    for (int c = 0; c < C; c++) {
      double xhat = (x[m * C + c] - mean[c]) * invStd[c];
      dx[m * C + c] = (double)a.gamma[c] * invStd[c] / (double)M * ((double)M * dy[m * C + c] - sumDy[c] - xhat * sumDyXhat[c]);
    }
  storeNhwc(j.y, a.dx, a.alphaData, a.betaData, dx);
  for (int c = 0; c < C; c++) {
    double g = a.alphaParam * sumDyXhat[c], bi = a.alphaParam * sumDy[c];
    if (a.betaParam != 0) g += a.betaParam * a.dGamma[c], bi += a.betaParam * a.dBias[c];
    a.dGamma[c] = (float)g;
    a.dBias[c] = (float)bi;
  }
}

// NVIDIA's order: handle, mode, alphaDataDiff, betaDataDiff, alphaParamDiff, betaParamDiff, xDesc, x,
// dyDesc, dy, dxDesc, dx, dBnScaleBiasDesc, bnScale, dBnScaleResult, dBnBiasResult, epsilon, savedMean,
// savedInvVariance.
cudnnStatus_t cudnnBatchNormalizationBackward(cudnnHandle_t h, cudnnBatchNormMode_t mode, const void* alphaData, const void* betaData,
                                              const void* alphaParam, const void* betaParam, cudnnTensorDescriptor_t xD, const void* x,
                                              cudnnTensorDescriptor_t dyD, const void* dy, cudnnTensorDescriptor_t dxD, void* dx,
                                              cudnnTensorDescriptor_t pD, const void* scale, void* dScale, void* dBias, double eps,
                                              const void* savedMean, const void* savedInvStd) {
  const char* call = "cudnnBatchNormalizationBackward";
  if (!h) return bad(std::string(call) + ": handle is null");
  BnJob j;
  if (cudnnStatus_t s = bnJob(&j, mode, xD, dxD, pD, call)) return s;
  if (!dyD || !dyD->set || !dyD->s.sameDims(xD->s)) return bad(std::string(call) + ": dy's descriptor must be set and match x");
  BnBackArgs args{dyD->s, x, dy, dx, (const float*)scale, (float*)dScale, (float*)dBias, eps, (const float*)savedMean, (const float*)savedInvStd,
                  0, 0, 0, 0};
  if (cudnnStatus_t s = scales(alphaData, betaData, &args.alphaData, &args.betaData, call)) return s;
  if (cudnnStatus_t s = scales(alphaParam, betaParam, &args.alphaParam, &args.betaParam, call)) return s;
  if (!x || !dy || !dx || !scale || !dScale || !dBias) return bad(std::string(call) + ": a data pointer is null");
  if (!savedMean != !savedInvStd) return bad(std::string(call) + ": only one of the saved mean and inverse variance is null");
  if (!(eps >= 0)) return bad(std::string(call) + ": epsilon must be at least CUDNN_BN_MIN_EPSILON (0)");
  enqueue(h->stream, [j, args] { bnBackward(j, args); });
  return CUDNN_STATUS_SUCCESS;
}


// ---------- batch normalization, the *Ex calls ----------

cudnnStatus_t cudnnCreateActivationDescriptor(cudnnActivationDescriptor_t* d) { return create(d, "cudnnCreateActivationDescriptor"); }
cudnnStatus_t cudnnDestroyActivationDescriptor(cudnnActivationDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetActivationDescriptor(cudnnActivationDescriptor_t d, cudnnActivationMode_t mode, cudnnNanPropagation_t, double) {
  if (!d) return bad("cudnnSetActivationDescriptor: descriptor is null");
  if (mode != CUDNN_ACTIVATION_RELU) return fail(CUDNN_STATUS_NOT_SUPPORTED, "cudnnSetActivationDescriptor: the emulator has ReLU only");
  d->set = true;
  d->mode = mode;
  return CUDNN_STATUS_SUCCESS;
}

// The reserve space: a header naming the forward that wrote it, then the ReLU's mask (one byte per element).
struct ReserveHeader {
  uint64_t magic, count;
  const void* saveMean;  // the forward's: a backward with other saved statistics was handed another forward's reserve
};
constexpr uint64_t kReserveMagic = 0x7265736572766521ull;
size_t reserveBytes(const Shape4& x) { return sizeof(ReserveHeader) + (size_t)x.count(); }
size_t exWorkspaceBytes(const Shape4& x) { return 256 + (size_t)x.c * 16; }

// What both *Ex calls check: ops, the activation (present exactly with BN_ACTIVATION), no residual input.
cudnnStatus_t exOps(cudnnBatchNormOps_t ops, cudnnActivationDescriptor_t act, const void* zD, const char* call) {
  std::string c(call);
  if (ops != CUDNN_BATCHNORM_OPS_BN && ops != CUDNN_BATCHNORM_OPS_BN_ACTIVATION)
    return fail(CUDNN_STATUS_NOT_SUPPORTED, c + ": the emulator has OPS_BN and OPS_BN_ACTIVATION only");
  if ((ops == CUDNN_BATCHNORM_OPS_BN_ACTIVATION) != (act != nullptr)) return bad(c + ": an activation descriptor goes with OPS_BN_ACTIVATION only");
  if (act && !act->set) return bad(c + ": the activation descriptor was never set");
  if (zD) return bad(c + ": z (the residual input) is for OPS_BN_ADD_ACTIVATION");
  return CUDNN_STATUS_SUCCESS;
}

// What every *Ex call with a geometry checks first: the handle, ops and activation, no residual, x and its output.
cudnnStatus_t exJob(BnJob* j, cudnnHandle_t h, cudnnBatchNormMode_t mode, cudnnBatchNormOps_t ops, cudnnActivationDescriptor_t act,
                    const void* z, cudnnTensorDescriptor_t xD, cudnnTensorDescriptor_t outD, cudnnTensorDescriptor_t pD, const char* call) {
  if (!h) return bad(std::string(call) + ": handle is null");
  if (cudnnStatus_t s = exOps(ops, act, z, call)) return s;
  return bnJob(j, mode, xD, outD, pD, call);
}

cudnnStatus_t cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize(cudnnHandle_t h, cudnnBatchNormMode_t mode, cudnnBatchNormOps_t ops,
                                                                      cudnnTensorDescriptor_t xD, cudnnTensorDescriptor_t zD,
                                                                      cudnnTensorDescriptor_t yD, cudnnTensorDescriptor_t pD,
                                                                      cudnnActivationDescriptor_t act, size_t* bytes) {
  const char* call = "cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize";
  BnJob j;
  if (cudnnStatus_t s = exJob(&j, h, mode, ops, act, zD, xD, yD, pD, call)) return s;
  if (!bytes) return bad(std::string(call) + ": the size's pointer is null");
  *bytes = exWorkspaceBytes(j.x);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetBatchNormalizationBackwardExWorkspaceSize(cudnnHandle_t h, cudnnBatchNormMode_t mode, cudnnBatchNormOps_t ops,
                                                                cudnnTensorDescriptor_t xD, cudnnTensorDescriptor_t yD,
                                                                cudnnTensorDescriptor_t dyD, cudnnTensorDescriptor_t dzD,
                                                                cudnnTensorDescriptor_t dxD, cudnnTensorDescriptor_t pD,
                                                                cudnnActivationDescriptor_t act, size_t* bytes) {
  const char* call = "cudnnGetBatchNormalizationBackwardExWorkspaceSize";
  BnJob j;
  if (cudnnStatus_t s = exJob(&j, h, mode, ops, act, dzD, xD, dxD, pD, call)) return s;
  if (!bytes) return bad(std::string(call) + ": the size's pointer is null");
  if (!dyD || !dyD->set || !dyD->s.sameDims(xD->s)) return bad(std::string(call) + ": dy's descriptor must be set and match x");
  if (act && (!yD || !yD->set || !yD->s.sameDims(xD->s))) return bad(std::string(call) + ": the activation's backward needs y's descriptor");
  *bytes = exWorkspaceBytes(j.x);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetBatchNormalizationTrainingExReserveSpaceSize(cudnnHandle_t h, cudnnBatchNormMode_t mode, cudnnBatchNormOps_t ops,
                                                                  cudnnActivationDescriptor_t act, cudnnTensorDescriptor_t xD, size_t* bytes) {
  const char* call = "cudnnGetBatchNormalizationTrainingExReserveSpaceSize";
  if (!h || !bytes || !xD || !xD->set) return bad(std::string(call) + ": handle, x's descriptor or the size's pointer is null or unset");
  if (cudnnStatus_t s = exOps(ops, act, nullptr, call)) return s;
  if (mode != CUDNN_BATCHNORM_SPATIAL && mode != CUDNN_BATCHNORM_SPATIAL_PERSISTENT) return bad(std::string(call) + ": unknown mode");
  *bytes = reserveBytes(xD->s);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t exBuffers(const Shape4& x, void* ws, size_t wsBytes, void* reserve, size_t reserveSize, const char* call) {
  if (wsBytes < exWorkspaceBytes(x) || !ws) return bad(std::string(call) + ": the workspace is smaller than its Get*WorkspaceSize said");
  if (reserveSize < reserveBytes(x) || !reserve) return bad(std::string(call) + ": the reserve space is smaller than its Get*ReserveSpaceSize said");
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBatchNormalizationForwardTrainingEx(cudnnHandle_t h, cudnnBatchNormMode_t mode, cudnnBatchNormOps_t ops, const void* alpha,
                                                       const void* beta, cudnnTensorDescriptor_t xD, const void* x, cudnnTensorDescriptor_t zD,
                                                       const void* z, cudnnTensorDescriptor_t yD, void* y, cudnnTensorDescriptor_t pD,
                                                       const void* scale, const void* bias, double factor, void* runMean, void* runVar,
                                                       double eps, void* saveMean, void* saveInvStd, cudnnActivationDescriptor_t act,
                                                       void* ws, size_t wsBytes, void* reserve, size_t reserveSize) {
  const char* call = "cudnnBatchNormalizationForwardTrainingEx";
  BnJob j;
  double a, b;
  if (cudnnStatus_t s = exJob(&j, h, mode, ops, act, zD ? zD : (const void*)z, xD, yD, pD, call)) return s;
  if (cudnnStatus_t s = scales(alpha, beta, &a, &b, call)) return s;
  if (cudnnStatus_t s = exBuffers(j.x, ws, wsBytes, reserve, reserveSize, call)) return s;
  if (!x || !y || !scale || !bias || !saveMean || !saveInvStd) return bad(std::string(call) + ": x, y, scale, bias or a saved statistic is null");
  if (!runMean != !runVar) return bad(std::string(call) + ": only one of the running mean and variance is null");
  if (!(eps >= 0)) return bad(std::string(call) + ": epsilon must be at least CUDNN_BN_MIN_EPSILON (0)");
  BnTrainArgs args{x, y, (const float*)scale, (const float*)bias, factor, eps, (float*)runMean, (float*)runVar, (float*)saveMean,
                   (float*)saveInvStd};
  bool relu = act != nullptr;
  enqueue(h->stream, [j, args, a, b, relu, reserve] {
    bnTrain(j, args, a, b);
    auto* head = (ReserveHeader*)reserve;
    uint8_t* mask = (uint8_t*)(head + 1);
    std::vector<float> yv = loadNhwc(j.y, args.y);
    for (int64_t i = 0; i < (int64_t)yv.size(); i++) {
      mask[i] = !relu || yv[i] > 0.0f;
      if (relu && !(yv[i] > 0.0f) && !std::isnan(yv[i])) yv[i] = 0.0f;
    }
    if (relu) storeNhwc(j.y, args.y, 1.0, 0.0, std::vector<double>(yv.begin(), yv.end()));
    *head = ReserveHeader{kReserveMagic, (uint64_t)j.x.count(), args.saveMean};
  });
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBatchNormalizationBackwardEx(cudnnHandle_t h, cudnnBatchNormMode_t mode, cudnnBatchNormOps_t ops, const void* alphaData,
                                                const void* betaData, const void* alphaParam, const void* betaParam, cudnnTensorDescriptor_t xD,
                                                const void* x, cudnnTensorDescriptor_t yD, const void* y, cudnnTensorDescriptor_t dyD,
                                                const void* dy, cudnnTensorDescriptor_t dzD, void* dz, cudnnTensorDescriptor_t dxD, void* dx,
                                                cudnnTensorDescriptor_t pD, const void* scale, const void* bias, void* dScale, void* dBias,
                                                double eps, const void* savedMean, const void* savedInvStd, cudnnActivationDescriptor_t act,
                                                void* ws, size_t wsBytes, void* reserve, size_t reserveSize) {
  const char* call = "cudnnBatchNormalizationBackwardEx";
  BnJob j;
  if (cudnnStatus_t s = exJob(&j, h, mode, ops, act, dzD ? dzD : (const void*)dz, xD, dxD, pD, call)) return s;
  if (!dyD || !dyD->set || !dyD->s.sameDims(xD->s)) return bad(std::string(call) + ": dy's descriptor must be set and match x");
  if (act && (!yD || !yD->set || !y || !bias)) return bad(std::string(call) + ": the activation's backward needs y and the BatchNorm bias");
  if (cudnnStatus_t s = exBuffers(j.x, ws, wsBytes, reserve, reserveSize, call)) return s;
  BnBackArgs args{dyD->s, x, dy, dx, (const float*)scale, (float*)dScale, (float*)dBias, eps, (const float*)savedMean, (const float*)savedInvStd,
                  0, 0, 0, 0};
  if (cudnnStatus_t s = scales(alphaData, betaData, &args.alphaData, &args.betaData, call)) return s;
  if (cudnnStatus_t s = scales(alphaParam, betaParam, &args.alphaParam, &args.betaParam, call)) return s;
  if (!x || !dy || !dx || !scale || !dScale || !dBias || !savedMean || !savedInvStd) return bad(std::string(call) + ": a data pointer is null");
  if (!(eps >= 0)) return bad(std::string(call) + ": epsilon must be at least CUDNN_BN_MIN_EPSILON (0)");
  Shape4 dyS = dyD->s;
  enqueue(h->stream, [j, args, reserve, dyS] {
    const auto* head = (const ReserveHeader*)reserve;
    if (head->magic != kReserveMagic || head->count != (uint64_t)j.x.count() || head->saveMean != args.savedMean) {
      std::fprintf(stderr, "emulated cudnnBatchNormalizationBackwardEx: the reserve space was not written by the forward of these saved statistics\n");
      std::abort();
    }
    // The ReLU's backward from the forward's mask, then the BatchNorm's on the masked gradient.
    const uint8_t* mask = (const uint8_t*)(head + 1);
    std::vector<float> g = loadNhwc(dyS, args.dyp);
    std::vector<double> masked(g.size());
    for (size_t i = 0; i < g.size(); i++) masked[i] = mask[i] ? g[i] : 0.0;
    Shape4 f32 = dyS;
    f32.type = CUDNN_DATA_FLOAT;
    f32.nhwc = true;
    std::vector<float> buf(g.size());
    storeNhwc(f32, buf.data(), 1.0, 0.0, masked);
    BnBackArgs a = args;
    a.dy = f32;
    a.dyp = buf.data();
    bnBackward(j, a);
  });
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace

void fillCudnn(vgg::cu::Cudnn& t) {
  t.cudnnGetVersion = cudnnGetVersion;
  t.cudnnGetCudartVersion = cudnnGetCudartVersion;
  t.cudnnGetErrorString = cudnnGetErrorString;
  t.cudnnGetLastErrorString = cudnnGetLastErrorString;
  t.cudnnOpsVersionCheck = cudnnOpsVersionCheck;
  t.cudnnCnnVersionCheck = cudnnCnnVersionCheck;
  t.cudnnCreate = cudnnCreate;
  t.cudnnDestroy = cudnnDestroy;
  t.cudnnSetStream = cudnnSetStream;
  t.cudnnCreateTensorDescriptor = cudnnCreateTensorDescriptor;
  t.cudnnSetTensor4dDescriptor = cudnnSetTensor4dDescriptor;
  t.cudnnDestroyTensorDescriptor = cudnnDestroyTensorDescriptor;
  t.cudnnCreateFilterDescriptor = cudnnCreateFilterDescriptor;
  t.cudnnSetFilter4dDescriptor = cudnnSetFilter4dDescriptor;
  t.cudnnDestroyFilterDescriptor = cudnnDestroyFilterDescriptor;
  t.cudnnCreateConvolutionDescriptor = cudnnCreateConvolutionDescriptor;
  t.cudnnSetConvolution2dDescriptor = cudnnSetConvolution2dDescriptor;
  t.cudnnSetConvolutionMathType = cudnnSetConvolutionMathType;
  t.cudnnDestroyConvolutionDescriptor = cudnnDestroyConvolutionDescriptor;
  t.cudnnFindConvolutionForwardAlgorithmEx = cudnnFindConvolutionForwardAlgorithmEx;
  t.cudnnFindConvolutionBackwardDataAlgorithmEx = cudnnFindConvolutionBackwardDataAlgorithmEx;
  t.cudnnFindConvolutionBackwardFilterAlgorithmEx = cudnnFindConvolutionBackwardFilterAlgorithmEx;
  t.cudnnConvolutionForward = cudnnConvolutionForward;
  t.cudnnConvolutionBackwardData = cudnnConvolutionBackwardData;
  t.cudnnConvolutionBackwardFilter = cudnnConvolutionBackwardFilter;
  t.cudnnCreatePoolingDescriptor = cudnnCreatePoolingDescriptor;
  t.cudnnSetPooling2dDescriptor = cudnnSetPooling2dDescriptor;
  t.cudnnDestroyPoolingDescriptor = cudnnDestroyPoolingDescriptor;
  t.cudnnPoolingForward = cudnnPoolingForward;
  t.cudnnPoolingBackward = cudnnPoolingBackward;
  t.cudnnBatchNormalizationForwardTraining = cudnnBatchNormalizationForwardTraining;
  t.cudnnBatchNormalizationForwardInference = cudnnBatchNormalizationForwardInference;
  t.cudnnBatchNormalizationBackward = cudnnBatchNormalizationBackward;
  t.cudnnCreateActivationDescriptor = cudnnCreateActivationDescriptor;
  t.cudnnSetActivationDescriptor = cudnnSetActivationDescriptor;
  t.cudnnDestroyActivationDescriptor = cudnnDestroyActivationDescriptor;
  t.cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize = cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize;
  t.cudnnGetBatchNormalizationBackwardExWorkspaceSize = cudnnGetBatchNormalizationBackwardExWorkspaceSize;
  t.cudnnGetBatchNormalizationTrainingExReserveSpaceSize = cudnnGetBatchNormalizationTrainingExReserveSpaceSize;
  t.cudnnBatchNormalizationForwardTrainingEx = cudnnBatchNormalizationForwardTrainingEx;
  t.cudnnBatchNormalizationBackwardEx = cudnnBatchNormalizationBackwardEx;
  fillCudnnGraph(t);
}

}  // namespace emu

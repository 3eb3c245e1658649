// What the emulated cuDNN's two files share (README.md here): cudnn.cc (the legacy calls) and cudnn_graph.cc
// (the graph API) run their convolutions through the same loops, on the same handle, and report their failures
// through the same cudnnGetLastErrorString.
#pragma once
#include <cuda_runtime_api.h>
#include <cstdint>
#include <string>
#include <vector>
#include "cuda/api.h"

// The opaque handle type api.h declares.
struct cudnnContext {
  cudaStream_t stream = nullptr;
};

namespace emu {

// cudnn_graph.h's CUDNN_STATUS_NOT_INITIALIZED (api.h declares only the statuses the backend tells apart).
constexpr vgg::cu::cudnnStatus_t kNotInitialized = vgg::cu::cudnnStatus_t(1001);

// Returns s, keeping `why` for this thread's cudnnGetLastErrorString; bad() is fail(CUDNN_STATUS_BAD_PARAM, why).
vgg::cu::cudnnStatus_t fail(vgg::cu::cudnnStatus_t s, const std::string& why);
vgg::cu::cudnnStatus_t bad(const std::string& why);

// The geometry of a 4-d tensor or filter (a filter's k, c, r, s as n, c, h, w: KCRS is NCHW, KRSC is NHWC).
struct Shape4 {
  vgg::cu::cudnnDataType_t type = vgg::cu::CUDNN_DATA_FLOAT;
  bool nhwc = false;
  int n = 0, c = 0, h = 0, w = 0;
  int64_t count() const { return (int64_t)n * c * h * w; }
  int64_t offset(int64_t in, int64_t ic, int64_t ih, int64_t iw) const {
    return nhwc ? ((in * h + ih) * w + iw) * c + ic : ((in * c + ic) * h + ih) * w + iw;
  }
  bool sameDims(const Shape4& o) const { return n == o.n && c == o.c && h == o.h && w == o.w; }
  std::string dims() const {
    return std::to_string(n) + "x" + std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
  }
};

// padH/padW pad the top and left; the bottom and right padding is whatever the output's size implies.
struct ConvGeom {
  int padH = 0, padW = 0, strideH = 1, strideW = 1, dilH = 1, dilW = 1;
  bool flip = false;  // CUDNN_CONVOLUTION: true convolution, the filter rotated by 180 degrees
};

struct ConvJob {
  Shape4 x, w, y;  // y: the convolution's output (dy for the backward passes)
  ConvGeom g;
};

// The convolution forward's sums in float64, NHWC in j.y's dims (x and w read in their types and layouts).
std::vector<double> convSums(const ConvJob& j, const void* xp, const void* wp);
// out = alpha * v + beta * out for v NHWC in s's dims, rounded once to out's type and stored in its layout;
// out is read only when beta != 0.
void storeNhwc(const Shape4& s, void* p, double alpha, double beta, const std::vector<double>& v);

// Fills the graph API's entries of the function table (cudnn_graph.cc); fillCudnn calls it.
void fillCudnnGraph(vgg::cu::Cudnn& t);

}  // namespace emu

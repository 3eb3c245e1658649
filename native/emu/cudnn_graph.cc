// The CUDA emulator's stand-in for cuDNN's graph (backend) API (README.md here): the graphs the fused convolution
// candidate builds (native/cuda/conv_fused.cc),
//   x, w --CONVOLUTION_FORWARD--> c (virtual) --POINTWISE ADD bias--> a (virtual) --RELU_FWD--> y
// or the add writing y, run with cudnn.cc's convolution loops: y = relu?(alpha * conv(x, w) + bias[k]) in float64,
// rounded once to y's type. Other graphs are refused with CUDNN_STATUS_NOT_SUPPORTED, as a cuDNN without an
// engine for them refuses them.
//
// The descriptors keep cuDNN 9's documented rules (cudnn_graph library: cudnnBackendSetAttribute, GetAttribute,
// Finalize, Execute and the backend descriptor types), strictly, so that a misuse in conv_fused.cc fails here
// and not only on a GPU: each attribute's type, element count and whether it may be set; the attributes
// required at finalize; a referenced descriptor must be finalized and of the documented type; a finalized
// descriptor takes no attribute and only a finalized one gives them (CUDNN_STATUS_NOT_INITIALIZED);
// descriptor-valued results are written into descriptors the caller created, of the result's type; an
// execution needs every non-virtual tensor's pointer, aligned as declared, and the plan's workspace. Every
// failure says which call, which attribute and why (cudnnGetLastErrorString).
//
// Heuristics (mode A or FALLBACK) suggest two engine configs: engine 0 with the numerical note TENSOR_CORE, then
// engine 1 with none. Both compute alike here, so which one runs is conv_fused.cc's note filter's choice alone
// (status().details.convFused names each plan's engine). A descriptor set as an attribute is copied, as it then
// stands, into the one that refers to it.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>
#include "emu/cudnn_common.h"
#include "emu/stream.h"

namespace emu {
namespace {

using namespace vgg::cu;

constexpr int64_t kMaxDims = 8;            // CUDNN_DIM_MAX: the most dimensions of a tensor
constexpr int64_t kMany = INT64_MAX;       // no upper bound on an attribute's element count
constexpr int64_t kWorkspaceBytes = 1024;  // what every plan asks for (each execution writes all of it)
constexpr int64_t kTensorCoreEngine = 0, kPlainEngine = 1;
constexpr int kAnyOperation = -1;          // an OPERATIONGRAPH_OPS element: any CUDNN_BACKEND_OPERATION_*_DESCRIPTOR

// ---------- names, for messages ----------

#define VGG_NAME(x) \
  case x: return #x;
std::string typeName(int t) {
  switch (t) {
    VGG_NAME(CUDNN_BACKEND_POINTWISE_DESCRIPTOR)
    VGG_NAME(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR)
    VGG_NAME(CUDNN_BACKEND_ENGINE_DESCRIPTOR)
    VGG_NAME(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR)
    VGG_NAME(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR)
    VGG_NAME(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR)
    VGG_NAME(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR)
    VGG_NAME(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR)
    VGG_NAME(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR)
    VGG_NAME(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR)
    VGG_NAME(CUDNN_BACKEND_TENSOR_DESCRIPTOR)
    case kAnyOperation: return "CUDNN_BACKEND_OPERATION_*_DESCRIPTOR";
  }
  return "descriptor type " + std::to_string(t);
}
std::string attrTypeName(cudnnBackendAttributeType_t t) {
  switch (t) {
    VGG_NAME(CUDNN_TYPE_HANDLE)
    VGG_NAME(CUDNN_TYPE_DATA_TYPE)
    VGG_NAME(CUDNN_TYPE_BOOLEAN)
    VGG_NAME(CUDNN_TYPE_INT64)
    VGG_NAME(CUDNN_TYPE_FLOAT)
    VGG_NAME(CUDNN_TYPE_DOUBLE)
    VGG_NAME(CUDNN_TYPE_VOID_PTR)
    VGG_NAME(CUDNN_TYPE_CONVOLUTION_MODE)
    VGG_NAME(CUDNN_TYPE_HEUR_MODE)
    VGG_NAME(CUDNN_TYPE_NUMERICAL_NOTE)
    VGG_NAME(CUDNN_TYPE_POINTWISE_MODE)
    VGG_NAME(CUDNN_TYPE_BACKEND_DESCRIPTOR)
  }
  return "attribute type " + std::to_string((int)t);
}
#undef VGG_NAME

std::string list(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); i++) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// ---------- the attributes of each descriptor type ----------

enum Access { kRequired, kOptional, kReadOnly };
struct Spec {
  cudnnBackendDescriptorType_t owner;
  cudnnBackendAttributeName_t name;
  const char* text;
  cudnnBackendAttributeType_t type;
  int64_t minCount, maxCount;
  Access access;
  int refType = 0;        // CUDNN_TYPE_BACKEND_DESCRIPTOR: the descriptor type of every element
  bool orDouble = false;  // a CUDNN_TYPE_FLOAT scalar that may be given as CUDNN_TYPE_DOUBLE too
};

#define VGG_ATTR(owner, attr, ...) {CUDNN_BACKEND_##owner##_DESCRIPTOR, CUDNN_ATTR_##attr, "CUDNN_ATTR_" #attr, __VA_ARGS__}
#define VGG_REF(owner, attr, access, ref) VGG_ATTR(owner, attr, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1, access, CUDNN_BACKEND_##ref##_DESCRIPTOR)
// As cuDNN 9 documents them ("Backend Descriptor Types"), for the attributes api.h declares. An ENGINE is only
// ever handed out by ENGINECFG_ENGINE here: its CUDNN_ATTR_ENGINE_OPERATION_GRAPH is not emulated.
const Spec kSpecs[] = {
    VGG_ATTR(TENSOR, TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, 1, kRequired),
    VGG_ATTR(TENSOR, TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, 1, kRequired),
    VGG_ATTR(TENSOR, TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, 1, kRequired),
    VGG_ATTR(TENSOR, TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 1, kMaxDims, kRequired),
    VGG_ATTR(TENSOR, TENSOR_STRIDES, CUDNN_TYPE_INT64, 1, kMaxDims, kRequired),
    VGG_ATTR(TENSOR, TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, 1, kOptional),  // default false
    VGG_ATTR(CONVOLUTION, CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, 1, kRequired),
    VGG_ATTR(CONVOLUTION, CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, 1, kRequired),
    VGG_ATTR(CONVOLUTION, CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, 1, kRequired),
    VGG_ATTR(CONVOLUTION, CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 1, kMaxDims, kRequired),
    VGG_ATTR(CONVOLUTION, CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 1, kMaxDims, kRequired),
    VGG_ATTR(CONVOLUTION, CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 1, kMaxDims, kRequired),
    VGG_ATTR(CONVOLUTION, CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 1, kMaxDims, kRequired),
    VGG_ATTR(POINTWISE, POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, 1, kRequired),
    VGG_ATTR(POINTWISE, POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, 1, kRequired),
    VGG_ATTR(OPERATION_CONVOLUTION_FORWARD, OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, 1, kRequired, 0, true),
    VGG_ATTR(OPERATION_CONVOLUTION_FORWARD, OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, 1, kRequired, 0, true),
    VGG_REF(OPERATION_CONVOLUTION_FORWARD, OPERATION_CONVOLUTION_FORWARD_CONV_DESC, kRequired, CONVOLUTION),
    VGG_REF(OPERATION_CONVOLUTION_FORWARD, OPERATION_CONVOLUTION_FORWARD_W, kRequired, TENSOR),
    VGG_REF(OPERATION_CONVOLUTION_FORWARD, OPERATION_CONVOLUTION_FORWARD_X, kRequired, TENSOR),
    VGG_REF(OPERATION_CONVOLUTION_FORWARD, OPERATION_CONVOLUTION_FORWARD_Y, kRequired, TENSOR),
    VGG_REF(OPERATION_POINTWISE, OPERATION_POINTWISE_PW_DESCRIPTOR, kRequired, POINTWISE),
    VGG_REF(OPERATION_POINTWISE, OPERATION_POINTWISE_XDESC, kRequired, TENSOR),
    VGG_REF(OPERATION_POINTWISE, OPERATION_POINTWISE_BDESC, kOptional, TENSOR),  // required by binary modes (finalize)
    VGG_REF(OPERATION_POINTWISE, OPERATION_POINTWISE_YDESC, kRequired, TENSOR),
    VGG_ATTR(OPERATIONGRAPH, OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, 1, kRequired),
    VGG_ATTR(OPERATIONGRAPH, OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, kMany, kRequired, kAnyOperation),
    VGG_ATTR(ENGINEHEUR, ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, 1, kRequired),
    VGG_REF(ENGINEHEUR, ENGINEHEUR_OPERATION_GRAPH, kRequired, OPERATIONGRAPH),
    VGG_ATTR(ENGINEHEUR, ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, kMany, kReadOnly, CUDNN_BACKEND_ENGINECFG_DESCRIPTOR),
    VGG_REF(ENGINECFG, ENGINECFG_ENGINE, kRequired, ENGINE),
    VGG_ATTR(ENGINE, ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, 1, kRequired),
    VGG_ATTR(ENGINE, ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE, 0, kMany, kReadOnly),
    VGG_ATTR(EXECUTION_PLAN, EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, 1, kRequired),
    VGG_REF(EXECUTION_PLAN, EXECUTION_PLAN_ENGINE_CONFIG, kRequired, ENGINECFG),
    VGG_ATTR(EXECUTION_PLAN, EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, 1, kReadOnly),
    VGG_ATTR(VARIANT_PACK, VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, 0, kMany, kRequired),
    VGG_ATTR(VARIANT_PACK, VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, 0, kMany, kRequired),
    VGG_ATTR(VARIANT_PACK, VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, 1, kRequired),
};
#undef VGG_REF
#undef VGG_ATTR

const Spec* specOf(int owner, cudnnBackendAttributeName_t name) {
  for (const Spec& s : kSpecs)
    if (s.owner == owner && s.name == name) return &s;
  return nullptr;
}

bool typeFits(const Spec& s, cudnnBackendAttributeType_t t) { return t == s.type || (s.orDouble && t == CUDNN_TYPE_DOUBLE); }
std::string typesOf(const Spec& s) { return attrTypeName(s.type) + (s.orDouble ? " or CUDNN_TYPE_DOUBLE" : ""); }

std::string countsOf(const Spec& s) {
  if (s.maxCount == kMany) return "at least " + std::to_string(s.minCount);
  if (s.minCount == s.maxCount) return std::to_string(s.minCount);
  return std::to_string(s.minCount) + " to " + std::to_string(s.maxCount);
}

// The C size of one element: a handle or pointer, bool, int64_t, float, double, or a 4-byte enumeration.
size_t elementSize(cudnnBackendAttributeType_t t) {
  switch (t) {
    case CUDNN_TYPE_HANDLE:
    case CUDNN_TYPE_VOID_PTR:
    case CUDNN_TYPE_BACKEND_DESCRIPTOR: return sizeof(void*);
    case CUDNN_TYPE_BOOLEAN: return sizeof(bool);
    case CUDNN_TYPE_INT64:
    case CUDNN_TYPE_DOUBLE: return 8;
    default: return 4;
  }
}

// ---------- descriptors ----------

struct Desc;
using Snapshot = std::shared_ptr<const Desc>;

// An attribute's value: `count` elements of `type`.
struct Value {
  cudnnBackendAttributeType_t type = CUDNN_TYPE_INT64;
  int64_t count = 0;
  std::vector<unsigned char> bytes;  // the elements as passed (every type but descriptors)
  std::vector<Snapshot> refs;        // CUDNN_TYPE_BACKEND_DESCRIPTOR: copies of the finalized descriptors
};

struct Fused;

struct Desc {
  cudnnBackendDescriptorType_t type;
  bool finalized = false;
  std::map<cudnnBackendAttributeName_t, Value> attrs;
  std::shared_ptr<const Fused> graph;  // an OPERATIONGRAPH's, and that of the ENGINE, ENGINECFG or plan made for it
};

// Guards every descriptor and `live`, the descriptors created and not yet destroyed. Never destroyed:
// conv_fused.cc's plans live as long as the process.
std::mutex& mu = *new std::mutex();
std::set<const void*>& live = *new std::set<const void*>();

Desc* lookup(cudnnBackendDescriptor_t d) { return live.count(d) ? static_cast<Desc*>(d) : nullptr; }

// Readers of attributes a finalize has checked.
template <class T>
T scalar(const Desc& d, cudnnBackendAttributeName_t n) {
  T v;
  std::memcpy(&v, d.attrs.at(n).bytes.data(), sizeof v);
  return v;
}
template <class T>
std::vector<T> array(const Desc& d, cudnnBackendAttributeName_t n) {
  const Value& v = d.attrs.at(n);
  std::vector<T> out((size_t)v.count);
  if (v.count) std::memcpy(out.data(), v.bytes.data(), v.bytes.size());
  return out;
}
double real(const Desc& d, cudnnBackendAttributeName_t n) {
  return d.attrs.at(n).type == CUDNN_TYPE_DOUBLE ? scalar<double>(d, n) : scalar<float>(d, n);
}
const Desc& ref(const Desc& d, cudnnBackendAttributeName_t n) { return *d.attrs.at(n).refs.at(0); }

// A value this stand-in gives (a read-only attribute).
template <class T>
Value valueOf(cudnnBackendAttributeType_t type, const std::vector<T>& v) {
  Value out{type, (int64_t)v.size(), std::vector<unsigned char>(v.size() * sizeof(T)), {}};
  if (!v.empty()) std::memcpy(out.bytes.data(), v.data(), out.bytes.size());
  return out;
}

// ---------- tensors and the convolution ----------

struct Tensor {
  int64_t uid = 0, align = 0;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  bool isVirtual = false;
  std::vector<int64_t> dims, strides;
  bool operator==(const Tensor& o) const {
    return uid == o.uid && align == o.align && type == o.type && isVirtual == o.isVirtual && dims == o.dims && strides == o.strides;
  }
  std::string text() const {
    return "uid " + std::to_string(uid) + (isVirtual ? " (virtual, " : " (") + "dims " + list(dims) + ", strides " + list(strides) +
           ", data type " + std::to_string((int)type) + ", alignment " + std::to_string(align) + ")";
  }
};
Tensor tensorOf(const Desc& d) {
  Tensor t;
  t.uid = scalar<int64_t>(d, CUDNN_ATTR_TENSOR_UNIQUE_ID);
  t.align = scalar<int64_t>(d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT);
  t.type = scalar<cudnnDataType_t>(d, CUDNN_ATTR_TENSOR_DATA_TYPE);
  t.isVirtual = d.attrs.count(CUDNN_ATTR_TENSOR_IS_VIRTUAL) && scalar<bool>(d, CUDNN_ATTR_TENSOR_IS_VIRTUAL);
  t.dims = array<int64_t>(d, CUDNN_ATTR_TENSOR_DIMENSIONS);
  t.strides = array<int64_t>(d, CUDNN_ATTR_TENSOR_STRIDES);
  return t;
}

// Whether t's strides lay its 4 dims out packed, NCHW or NHWC; a dimension of size 1 has no say (its index is
// always 0), so where both layouts fit they address alike.
bool laidOut(const Tensor& t, bool nhwc) {
  const std::vector<int64_t>& d = t.dims;
  const int64_t packed[2][4] = {{d[1] * d[2] * d[3], d[2] * d[3], d[3], 1}, {d[1] * d[2] * d[3], 1, d[3] * d[1], d[1]}};
  for (int i = 0; i < 4; i++)
    if (d[i] > 1 && t.strides[i] != packed[nhwc][i]) return false;
  return true;
}
Shape4 shapeOf(const Tensor& t) {
  return Shape4{t.type, !laidOut(t, false), (int)t.dims[0], (int)t.dims[1], (int)t.dims[2], (int)t.dims[3]};
}

cudnnStatus_t checkTensor(const Tensor& t, const std::string& where) {
  if (t.dims.size() != t.strides.size())
    return bad(where + ": CUDNN_ATTR_TENSOR_DIMENSIONS has " + std::to_string(t.dims.size()) + " elements, CUDNN_ATTR_TENSOR_STRIDES " +
               std::to_string(t.strides.size()));
  double count = 1;
  for (size_t i = 0; i < t.dims.size(); i++) {
    if (t.dims[i] <= 0 || t.strides[i] <= 0)
      return bad(where + ": dimensions and strides must be positive, got dimensions " + list(t.dims) + ", strides " + list(t.strides));
    count *= (double)t.dims[i];
  }
  if (t.align <= 0 || (t.align & (t.align - 1)))
    return bad(where + ": CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT must be a power of two, got " + std::to_string(t.align));
  if (t.dims.size() != 4)
    return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": the emulator has 4-d tensors only, got " + std::to_string(t.dims.size()) + " dimensions");
  if (t.type != CUDNN_DATA_FLOAT && t.type != CUDNN_DATA_BFLOAT16)
    return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": the emulator has FLOAT and BFLOAT16 tensors only, got data type " + std::to_string((int)t.type));
  if (count > INT32_MAX) return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": the emulator has tensors of at most 2^31-1 elements");
  if (!laidOut(t, false) && !laidOut(t, true))
    return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": the emulator takes packed NCHW or NHWC strides; strides " + list(t.strides) +
                                                " are neither for dimensions " + list(t.dims));
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t checkConvolution(const Desc& d, const std::string& where) {
  const int64_t spatial = scalar<int64_t>(d, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS);
  if (spatial < 1 || spatial > kMaxDims - 2)
    return bad(where + ": CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS must be 1 to " + std::to_string(kMaxDims - 2) + ", got " + std::to_string(spatial));
  const struct {
    cudnnBackendAttributeName_t name;
    const char* text;
    int64_t least;
  } arrays[] = {{CUDNN_ATTR_CONVOLUTION_DILATIONS, "CUDNN_ATTR_CONVOLUTION_DILATIONS", 1},
                {CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, "CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES", 1},
                {CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, "CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS", 0},
                {CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, "CUDNN_ATTR_CONVOLUTION_POST_PADDINGS", 0}};
  for (const auto& a : arrays) {
    std::vector<int64_t> v = array<int64_t>(d, a.name);
    if ((int64_t)v.size() != spatial)
      return bad(where + ": " + a.text + " has " + std::to_string(v.size()) + " elements, not CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS (" +
                 std::to_string(spatial) + ")");
    for (int64_t e : v)
      if (e < a.least || e > INT32_MAX) return bad(where + ": " + a.text + " " + list(v) + " out of range (" + std::to_string(a.least) + " to 2^31-1)");
  }
  const cudnnConvolutionMode_t mode = scalar<cudnnConvolutionMode_t>(d, CUDNN_ATTR_CONVOLUTION_CONV_MODE);
  if (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION)
    return bad(where + ": unknown CUDNN_ATTR_CONVOLUTION_CONV_MODE " + std::to_string((int)mode));
  if (spatial != 2) return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": the emulator convolves over 2 spatial dimensions only");
  if (scalar<cudnnDataType_t>(d, CUDNN_ATTR_CONVOLUTION_COMP_TYPE) != CUDNN_DATA_FLOAT)
    return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": the emulator's CUDNN_ATTR_CONVOLUTION_COMP_TYPE is CUDNN_DATA_FLOAT only");
  return CUDNN_STATUS_SUCCESS;
}

// x (n, c, h, w) * w (k, c, r, s) -> y (n, k, p, q): y's dimensions follow from the paddings, strides and dilations.
cudnnStatus_t checkConvolutionForward(const Desc& d, const std::string& where) {
  const Shape4 x = shapeOf(tensorOf(ref(d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X))),
               w = shapeOf(tensorOf(ref(d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W))),
               y = shapeOf(tensorOf(ref(d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y)));
  const Desc& c = ref(d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC);
  const std::string shapes = "x " + x.dims() + ", w " + w.dims() + ", y " + y.dims();
  if (x.c != w.c) {
    if (x.c % w.c == 0) return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": " + shapes + ": the emulator has no grouped convolutions");
    return bad(where + ": " + shapes + ": x's channels are not w's");
  }
  std::vector<int64_t> pre = array<int64_t>(c, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS), post = array<int64_t>(c, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS),
                       stride = array<int64_t>(c, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES), dil = array<int64_t>(c, CUDNN_ATTR_CONVOLUTION_DILATIONS);
  const int64_t in[2] = {x.h, x.w}, taps[2] = {w.h, w.w}, out[2] = {y.h, y.w};
  int64_t want[2];
  for (int i = 0; i < 2; i++) {
    const int64_t padded = in[i] + pre[i] + post[i], span = (taps[i] - 1) * dil[i] + 1;
    if (padded < span) return bad(where + ": " + shapes + ": the dilated filter is larger than the padded input");
    want[i] = (padded - span) / stride[i] + 1;
  }
  if (y.n != x.n || y.c != w.n || out[0] != want[0] || out[1] != want[1])
    return bad(where + ": " + shapes + ": y must be " + std::to_string(x.n) + "x" + std::to_string(w.n) + "x" + std::to_string(want[0]) + "x" +
               std::to_string(want[1]));
  return CUDNN_STATUS_SUCCESS;
}

// Y = X (op) B, with B broadcast where its dimension is 1; unary modes have no B.
cudnnStatus_t checkPointwiseOperation(const Desc& d, const std::string& where) {
  const cudnnPointwiseMode_t mode = scalar<cudnnPointwiseMode_t>(ref(d, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR), CUDNN_ATTR_POINTWISE_MODE);
  const bool hasB = d.attrs.count(CUDNN_ATTR_OPERATION_POINTWISE_BDESC);
  if (mode == CUDNN_POINTWISE_ADD && !hasB) return bad(where + ": CUDNN_POINTWISE_ADD is binary: CUDNN_ATTR_OPERATION_POINTWISE_BDESC is required");
  if (mode == CUDNN_POINTWISE_RELU_FWD && hasB)
    return bad(where + ": CUDNN_POINTWISE_RELU_FWD is unary: CUDNN_ATTR_OPERATION_POINTWISE_BDESC is for binary modes");
  const Tensor x = tensorOf(ref(d, CUDNN_ATTR_OPERATION_POINTWISE_XDESC)), y = tensorOf(ref(d, CUDNN_ATTR_OPERATION_POINTWISE_YDESC));
  if (x.dims != y.dims) return bad(where + ": y's dimensions " + list(y.dims) + " are not x's " + list(x.dims));
  if (hasB) {
    const Tensor b = tensorOf(ref(d, CUDNN_ATTR_OPERATION_POINTWISE_BDESC));
    for (int i = 0; i < 4; i++)
      if (b.dims[i] != x.dims[i] && b.dims[i] != 1)
        return bad(where + ": b's dimensions " + list(b.dims) + " neither match x's " + list(x.dims) + " nor are 1 (broadcast)");
  }
  return CUDNN_STATUS_SUCCESS;
}

// ---------- the operation graph ----------

// A graph this stand-in runs: y = relu?(alpha * conv(x, w) + bias[k]).
struct Fused {
  ConvJob conv;             // x, w and the geometry; conv.y is the graph's output y (its type and layout)
  double alpha = 1;         // the convolution's
  bool relu = false;
  std::vector<Tensor> io;   // x, w, bias, y: the tensors a variant pack names
};

// One operation's tensors: those it reads, the one it writes.
struct OpTensors {
  const Desc* op;
  std::vector<Tensor> reads;
  Tensor writes;
};

// Checks the graph's tensors as one: a unique id names one tensor, each tensor has at most one writer, and a
// virtual tensor (which lives only inside the graph) is written by an operation and read by another.
cudnnStatus_t checkTensors(const std::vector<OpTensors>& ops, const std::string& where) {
  std::map<int64_t, Tensor> byUid;
  std::map<int64_t, int> writers, readers;
  auto note = [&](const Tensor& t) {
    auto [it, fresh] = byUid.emplace(t.uid, t);
    return fresh || it->second == t;
  };
  for (const OpTensors& o : ops) {
    for (const Tensor& t : o.reads) {
      if (!note(t)) return bad(where + ": unique id " + std::to_string(t.uid) + " names two different tensors: " + byUid[t.uid].text() + " and " + t.text());
      readers[t.uid]++;
    }
    if (!note(o.writes))
      return bad(where + ": unique id " + std::to_string(o.writes.uid) + " names two different tensors: " + byUid[o.writes.uid].text() + " and " +
                 o.writes.text());
    if (++writers[o.writes.uid] > 1) return bad(where + ": two operations write tensor " + o.writes.text());
  }
  for (const auto& [uid, t] : byUid) {
    if (t.isVirtual && !writers[uid]) return bad(where + ": no operation writes virtual tensor " + t.text());
    if (t.isVirtual && !readers[uid]) return bad(where + ": no operation reads virtual tensor " + t.text() + " (a graph's output is not virtual)");
  }
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t buildGraph(const Desc& g, Fused* f, const std::string& where) {
  const std::string only = ": the emulator runs x, w -> CONVOLUTION_FORWARD -> c (virtual FLOAT) -> ADD [1,K,1,1] FLOAT bias -> "
                           "[a (virtual FLOAT) -> RELU_FWD ->] y only, x, w and y of one type";
  std::vector<OpTensors> ops;
  const OpTensors *conv = nullptr, *add = nullptr, *relu = nullptr;
  for (const Snapshot& op : g.attrs.at(CUDNN_ATTR_OPERATIONGRAPH_OPS).refs) {
    if (op->type == CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR)
      ops.push_back({op.get(),
                     {tensorOf(ref(*op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X)), tensorOf(ref(*op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W))},
                     tensorOf(ref(*op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y))});
    else {
      ops.push_back({op.get(), {tensorOf(ref(*op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC))}, tensorOf(ref(*op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC))});
      if (op->attrs.count(CUDNN_ATTR_OPERATION_POINTWISE_BDESC)) ops.back().reads.push_back(tensorOf(ref(*op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC)));
    }
  }
  if (cudnnStatus_t s = checkTensors(ops, where)) return s;
  for (const OpTensors& o : ops) {
    const OpTensors** slot = &conv;
    if (o.op->type == CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR)
      slot = scalar<cudnnPointwiseMode_t>(ref(*o.op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR), CUDNN_ATTR_POINTWISE_MODE) == CUDNN_POINTWISE_ADD
                 ? &add
                 : &relu;
    if (*slot) return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": two operations of one kind" + only);
    *slot = &o;
  }
  if (!conv || !add) return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": no convolution or no ADD" + only);
  const Tensor &x = conv->reads[0], &w = conv->reads[1], &c = conv->writes, &b = add->reads[1], &y = relu ? relu->writes : add->writes;
  const std::vector<int64_t> perChannel = {1, c.dims[1], 1, 1};
  if (!c.isVirtual || add->reads[0].uid != c.uid || (relu && (!add->writes.isVirtual || relu->reads[0].uid != add->writes.uid)))
    return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": the operations do not chain" + only);
  if (b.isVirtual || b.dims != perChannel || b.type != CUDNN_DATA_FLOAT || c.type != CUDNN_DATA_FLOAT ||
      (relu && add->writes.type != CUDNN_DATA_FLOAT) || x.type != w.type || x.type != y.type)
    return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": bias " + b.text() + ", x " + x.text() + ", w " + w.text() + ", y " + y.text() + only);
  if (real(*conv->op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA) != 0)
    return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": the convolution's beta is not 0: its virtual output holds nothing to blend");
  const Desc& cd = ref(*conv->op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC);
  std::vector<int64_t> pre = array<int64_t>(cd, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS), stride = array<int64_t>(cd, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES),
                       dil = array<int64_t>(cd, CUDNN_ATTR_CONVOLUTION_DILATIONS);
  const bool flip = scalar<cudnnConvolutionMode_t>(cd, CUDNN_ATTR_CONVOLUTION_CONV_MODE) == CUDNN_CONVOLUTION;
  f->conv = ConvJob{shapeOf(x), shapeOf(w), shapeOf(y), ConvGeom{(int)pre[0], (int)pre[1], (int)stride[0], (int)stride[1], (int)dil[0], (int)dil[1], flip}};
  f->alpha = real(*conv->op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA);
  f->relu = relu != nullptr;
  f->io = {x, w, b, y};
  return CUDNN_STATUS_SUCCESS;
}

// A finalized engine config of engine `index` for graph g, as a heuristics query returns it.
Snapshot engineConfig(const std::shared_ptr<const Fused>& g, int64_t index) {
  auto engine = std::make_shared<Desc>(Desc{CUDNN_BACKEND_ENGINE_DESCRIPTOR, true, {}, g});
  engine->attrs[CUDNN_ATTR_ENGINE_GLOBAL_INDEX] = valueOf(CUDNN_TYPE_INT64, std::vector<int64_t>{index});
  std::vector<cudnnBackendNumericalNote_t> notes;
  if (index == kTensorCoreEngine) notes.push_back(CUDNN_NUMERICAL_NOTE_TENSOR_CORE);
  engine->attrs[CUDNN_ATTR_ENGINE_NUMERICAL_NOTE] = valueOf(CUDNN_TYPE_NUMERICAL_NOTE, notes);
  auto cfg = std::make_shared<Desc>(Desc{CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, true, {}, g});
  cfg->attrs[CUDNN_ATTR_ENGINECFG_ENGINE] = Value{CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, {}, {engine}};
  return cfg;
}

// What finalizing checks and derives beyond the required attributes, per descriptor type.
cudnnStatus_t finalizeAs(Desc& d, const std::string& where) {
  switch (d.type) {
    case CUDNN_BACKEND_TENSOR_DESCRIPTOR: return checkTensor(tensorOf(d), where);
    case CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR: return checkConvolution(d, where);
    case CUDNN_BACKEND_POINTWISE_DESCRIPTOR: {
      const cudnnPointwiseMode_t mode = scalar<cudnnPointwiseMode_t>(d, CUDNN_ATTR_POINTWISE_MODE);
      if (mode != CUDNN_POINTWISE_ADD && mode != CUDNN_POINTWISE_RELU_FWD)
        return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": the emulator's CUDNN_ATTR_POINTWISE_MODE is ADD or RELU_FWD, got " + std::to_string((int)mode));
      if (scalar<cudnnDataType_t>(d, CUDNN_ATTR_POINTWISE_MATH_PREC) != CUDNN_DATA_FLOAT)
        return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": the emulator's CUDNN_ATTR_POINTWISE_MATH_PREC is CUDNN_DATA_FLOAT only");
      return CUDNN_STATUS_SUCCESS;
    }
    case CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR: return checkConvolutionForward(d, where);
    case CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR: return checkPointwiseOperation(d, where);
    case CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR: {
      if (!scalar<cudnnHandle_t>(d, CUDNN_ATTR_OPERATIONGRAPH_HANDLE)) return bad(where + ": CUDNN_ATTR_OPERATIONGRAPH_HANDLE is null");
      auto f = std::make_shared<Fused>();
      if (cudnnStatus_t s = buildGraph(d, f.get(), where)) return s;
      d.graph = f;
      return CUDNN_STATUS_SUCCESS;
    }
    case CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR: {
      const cudnnBackendHeurMode_t mode = scalar<cudnnBackendHeurMode_t>(d, CUDNN_ATTR_ENGINEHEUR_MODE);
      if (mode != CUDNN_HEUR_MODE_A && mode != CUDNN_HEUR_MODE_FALLBACK)
        return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": the emulator's CUDNN_ATTR_ENGINEHEUR_MODE is MODE_A or MODE_FALLBACK, got " +
                                                    std::to_string((int)mode));
      const std::shared_ptr<const Fused>& g = ref(d, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH).graph;
      d.attrs[CUDNN_ATTR_ENGINEHEUR_RESULTS] = Value{CUDNN_TYPE_BACKEND_DESCRIPTOR, 2, {}, {engineConfig(g, kTensorCoreEngine), engineConfig(g, kPlainEngine)}};
      return CUDNN_STATUS_SUCCESS;
    }
    case CUDNN_BACKEND_ENGINECFG_DESCRIPTOR: d.graph = ref(d, CUDNN_ATTR_ENGINECFG_ENGINE).graph; return CUDNN_STATUS_SUCCESS;
    case CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR:
      if (!scalar<cudnnHandle_t>(d, CUDNN_ATTR_EXECUTION_PLAN_HANDLE)) return bad(where + ": CUDNN_ATTR_EXECUTION_PLAN_HANDLE is null");
      d.graph = ref(d, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG).graph;
      d.attrs[CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE] = valueOf(CUDNN_TYPE_INT64, std::vector<int64_t>{kWorkspaceBytes});
      return CUDNN_STATUS_SUCCESS;
    case CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR: {
      std::vector<int64_t> uids = array<int64_t>(d, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS);
      const int64_t pointers = d.attrs.at(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS).count;
      if ((int64_t)uids.size() != pointers)
        return bad(where + ": " + std::to_string(uids.size()) + " CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS but " + std::to_string(pointers) +
                   " CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS");
      if (std::set<int64_t>(uids.begin(), uids.end()).size() != uids.size()) return bad(where + ": a unique id appears twice in " + list(uids));
      return CUDNN_STATUS_SUCCESS;
    }
    default:  // CUDNN_BACKEND_ENGINE_DESCRIPTOR
      return fail(CUDNN_STATUS_NOT_SUPPORTED, where + ": the emulator's engines come from heuristics results (ENGINECFG_ENGINE) only");
  }
}

// ---------- execution ----------

// y = relu?(alpha * conv(x, w) + bias[k]) in float64, y rounded once. The workspace is written through, as an
// engine's scratch would be, so that one smaller than the plan asked for trips the emulator's guard bytes.
void run(const Fused& f, const void* x, const void* w, const float* bias, void* y, void* ws, int64_t wsBytes) {
  std::memset(ws, 0x5A, (size_t)wsBytes);  // not runtime.cc's guard byte (0xA5)
  std::vector<double> v = convSums(f.conv, x, w);
  const size_t K = (size_t)f.conv.y.c;
  for (size_t i = 0; i < v.size(); i++) {
    const double a = f.alpha * v[i] + bias[i % K];
    v[i] = f.relu && a < 0 ? 0.0 : a;  // a NaN stays: a read of memory nobody wrote shows in y
  }
  storeNhwc(f.conv.y, y, 1.0, 0.0, v);
}

// ---------- the calls ----------

cudnnStatus_t cudnnBackendCreateDescriptor(cudnnBackendDescriptorType_t type, cudnnBackendDescriptor_t* d) {
  const std::string call = "cudnnBackendCreateDescriptor";
  if (!d) return bad(call + ": the descriptor's pointer is null");
  if (std::none_of(std::begin(kSpecs), std::end(kSpecs), [&](const Spec& s) { return s.owner == type; }))
    return fail(CUDNN_STATUS_NOT_SUPPORTED, call + ": the emulator has no " + typeName(type));
  std::lock_guard<std::mutex> lock(mu);
  Desc* D = new Desc{type};
  live.insert(D);
  *d = D;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBackendDestroyDescriptor(cudnnBackendDescriptor_t d) {
  std::lock_guard<std::mutex> lock(mu);
  if (!live.erase(d)) return bad("cudnnBackendDestroyDescriptor: not a live descriptor (never created, or destroyed already)");
  delete static_cast<Desc*>(d);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBackendSetAttribute(cudnnBackendDescriptor_t desc, cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type,
                                       int64_t count, const void* values) {
  std::lock_guard<std::mutex> lock(mu);
  Desc* d = lookup(desc);
  if (!d) return bad("cudnnBackendSetAttribute: not a live descriptor");
  const Spec* s = specOf(d->type, name);
  if (!s) return bad("cudnnBackendSetAttribute: attribute " + std::to_string((int)name) + " is not one of " + typeName(d->type));
  const std::string where = "cudnnBackendSetAttribute(" + typeName(d->type) + ", " + s->text + ")";
  if (d->finalized) return fail(kNotInitialized, where + ": the descriptor is finalized and takes no more attributes");
  if (s->access == kReadOnly) return bad(where + ": a read-only attribute");
  if (!typeFits(*s, type)) return bad(where + ": given as " + attrTypeName(type) + ", the attribute is " + typesOf(*s));
  if (count < s->minCount || count > s->maxCount)
    return bad(where + ": " + std::to_string(count) + " elements, the attribute takes " + countsOf(*s));
  if (count > 0 && !values) return bad(where + ": arrayOfElements is null");
  Value v{type, count};
  if (type == CUDNN_TYPE_BACKEND_DESCRIPTOR) {
    for (int64_t i = 0; i < count; i++) {
      const Desc* r = lookup(static_cast<const cudnnBackendDescriptor_t*>(values)[i]);
      const std::string which = where + ": element " + std::to_string(i);
      if (!r) return bad(which + " is not a live descriptor");
      const bool fits = s->refType == kAnyOperation ? r->type == CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR ||
                                                          r->type == CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR
                                                    : r->type == s->refType;
      if (!fits) return bad(which + " is a " + typeName(r->type) + ", not a " + typeName(s->refType));
      if (!r->finalized) return bad(which + " (a " + typeName(r->type) + ") is not finalized");
      v.refs.push_back(std::make_shared<const Desc>(*r));
    }
  } else {
    const auto* p = static_cast<const unsigned char*>(values);
    v.bytes.assign(p, p + count * elementSize(type));
  }
  d->attrs[name] = std::move(v);
  return CUDNN_STATUS_SUCCESS;
}

// Writes min(requested, the attribute's count) elements; *count is the attribute's count. Descriptor-valued
// elements are copied into descriptors the caller created, of the value's type.
cudnnStatus_t cudnnBackendGetAttribute(cudnnBackendDescriptor_t desc, cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type,
                                       int64_t requested, int64_t* count, void* values) {
  std::lock_guard<std::mutex> lock(mu);
  const Desc* d = lookup(desc);
  if (!d) return bad("cudnnBackendGetAttribute: not a live descriptor");
  const Spec* s = specOf(d->type, name);
  if (!s) return bad("cudnnBackendGetAttribute: attribute " + std::to_string((int)name) + " is not one of " + typeName(d->type));
  const std::string where = "cudnnBackendGetAttribute(" + typeName(d->type) + ", " + s->text + ")";
  if (!d->finalized) return fail(kNotInitialized, where + ": the descriptor is not finalized");
  if (!typeFits(*s, type)) return bad(where + ": asked as " + attrTypeName(type) + ", the attribute is " + typesOf(*s));
  if (requested < 0) return bad(where + ": requestedElementCount is negative");
  if (!count) return bad(where + ": elementCount is null");
  if (requested > 0 && !values) return bad(where + ": arrayOfElements is null");
  auto it = d->attrs.find(name);
  if (it == d->attrs.end()) return bad(where + ": the attribute was never set");
  const Value& v = it->second;
  if (type != v.type) return bad(where + ": asked as " + attrTypeName(type) + ", it was set as " + attrTypeName(v.type));
  const int64_t n = std::min(requested, v.count);
  if (type == CUDNN_TYPE_BACKEND_DESCRIPTOR) {
    auto* out = static_cast<cudnnBackendDescriptor_t*>(values);
    for (int64_t i = 0; i < n; i++) {
      const Desc* r = lookup(out[i]);
      if (!r || r->type != v.refs[i]->type)
        return bad(where + ": element " + std::to_string(i) + " of arrayOfElements must be a " + typeName(v.refs[i]->type) + " the caller created");
    }
    for (int64_t i = 0; i < n; i++) *static_cast<Desc*>(out[i]) = *v.refs[i];
  } else if (n > 0) {
    std::memcpy(values, v.bytes.data(), (size_t)n * elementSize(type));
  }
  *count = v.count;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBackendFinalize(cudnnBackendDescriptor_t desc) {
  std::lock_guard<std::mutex> lock(mu);
  Desc* d = lookup(desc);
  if (!d) return bad("cudnnBackendFinalize: not a live descriptor");
  const std::string where = "cudnnBackendFinalize(" + typeName(d->type) + ")";
  if (d->finalized) return bad(where + ": finalized already");
  for (const Spec& s : kSpecs)
    if (s.owner == d->type && s.access == kRequired && !d->attrs.count(s.name)) return bad(where + ": the required " + s.text + " was never set");
  cudnnStatus_t st = finalizeAs(*d, where);
  d->finalized = st == CUDNN_STATUS_SUCCESS;
  return st;
}

cudnnStatus_t cudnnBackendExecute(cudnnHandle_t h, cudnnBackendDescriptor_t planDesc, cudnnBackendDescriptor_t packDesc) {
  std::lock_guard<std::mutex> lock(mu);
  const std::string call = "cudnnBackendExecute";
  const Desc *plan = lookup(planDesc), *pack = lookup(packDesc);
  if (!h) return bad(call + ": handle is null");
  if (!plan || plan->type != CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR) return bad(call + ": executionPlan is not a live CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR");
  if (!pack || pack->type != CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR) return bad(call + ": variantPack is not a live CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR");
  if (!plan->finalized || !pack->finalized) return fail(kNotInitialized, call + ": the execution plan or the variant pack is not finalized");
  std::vector<int64_t> uids = array<int64_t>(*pack, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS);
  std::vector<void*> pointers = array<void*>(*pack, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS);
  void* ws = array<void*>(*pack, CUDNN_ATTR_VARIANT_PACK_WORKSPACE)[0];
  std::shared_ptr<const Fused> f = plan->graph;
  void* at[4];  // x, w, bias, y
  for (size_t i = 0; i < f->io.size(); i++) {
    const Tensor& t = f->io[i];
    const size_t k = std::find(uids.begin(), uids.end(), t.uid) - uids.begin();
    if (k == uids.size()) return bad(call + ": the variant pack has no pointer for tensor " + t.text());
    at[i] = pointers[k];
    if (!at[i]) return bad(call + ": the variant pack's pointer for tensor " + t.text() + " is null");
    if (reinterpret_cast<uintptr_t>(at[i]) % t.align)
      return bad(call + ": the variant pack's pointer for tensor " + t.text() + " is not aligned to its CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT");
  }
  const int64_t wsBytes = scalar<int64_t>(*plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE);
  if (wsBytes > 0 && !ws) return bad(call + ": the plan needs " + std::to_string(wsBytes) + " bytes of workspace; CUDNN_ATTR_VARIANT_PACK_WORKSPACE is null");
  // Values only: the descriptors may be destroyed before a captured graph replays (f is never changed).
  enqueue(h->stream, [f, x = at[0], w = at[1], b = static_cast<const float*>(at[2]), y = at[3], ws, wsBytes] { run(*f, x, w, b, y, ws, wsBytes); });
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace

void fillCudnnGraph(vgg::cu::Cudnn& t) {
  t.cudnnBackendCreateDescriptor = cudnnBackendCreateDescriptor;
  t.cudnnBackendDestroyDescriptor = cudnnBackendDestroyDescriptor;
  t.cudnnBackendFinalize = cudnnBackendFinalize;
  t.cudnnBackendSetAttribute = cudnnBackendSetAttribute;
  t.cudnnBackendGetAttribute = cudnnBackendGetAttribute;
  t.cudnnBackendExecute = cudnnBackendExecute;
}

}  // namespace emu

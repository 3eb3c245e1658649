// Convolution through cuDNN's legacy API: descriptors and algorithms found once per shape (Find*Ex,
// which times the real algorithms on the real buffers) and cached; bias and ReLU as our own kernels.
#include <cstdlib>
#include <map>
#include <memory>
#include "cuda/cuda_backend.h"

namespace vgg {

namespace {

struct ConvPlan {
  cu::cudnnTensorDescriptor_t xD = nullptr, yD = nullptr;
  cu::cudnnFilterDescriptor_t wD = nullptr;
  cu::cudnnConvolutionDescriptor_t cD = nullptr;
  bool fwdFound = false, bwdDataFound = false, bwdFilterFound = false;
  cu::cudnnConvolutionFwdAlgo_t fwd{};
  cu::cudnnConvolutionBwdDataAlgo_t bwdData{};
  cu::cudnnConvolutionBwdFilterAlgo_t bwdFilter{};
  cu::cudnnMathType_t fwdMath{}, bwdDataMath{}, bwdFilterMath{};
  size_t fwdWs = 0, bwdDataWs = 0, bwdFilterWs = 0;
};

std::mutex plansMu;
std::map<std::string, std::unique_ptr<ConvPlan>> plans;

// Workspace offered to Find*Ex: algorithms that need more are skipped. VGG_CIFAR_CUDNN_WORKSPACE_MB overrides.
size_t findWorkspaceBytes() {
  static size_t bytes = [] {
    const char* v = std::getenv("VGG_CIFAR_CUDNN_WORKSPACE_MB");
    long mb = v ? std::atol(v) : 0;
    return (size_t)(mb > 0 ? mb : 512) << 20;
  }();
  return bytes;
}

void set4d(const char* op, cu::cudnnTensorDescriptor_t d, const std::vector<int64_t>& s) {
  VGG_CUDNN_CALL(op, cudnnSetTensor4dDescriptor, d, cu::CUDNN_TENSOR_NCHW, cu::CUDNN_DATA_FLOAT, (int)s[0], (int)s[1], (int)s[2], (int)s[3]);
}

ConvPlan& planFor(const char* op, const Tensor& x, const Tensor& w, const Tensor& y, const ConvParams& p) {
  std::string key = shapeString(x.shape) + shapeString(w.shape) + shapeString(y.shape) + "/" + std::to_string(p.strideH) + "," +
                    std::to_string(p.strideW) + "," + std::to_string(p.padH) + "," + std::to_string(p.padW) +
                    (cuda().tf32() ? "/tf32" : "/fp32");
  std::lock_guard<std::mutex> lock(plansMu);
  auto it = plans.find(key);
  if (it != plans.end()) return *it->second;
  auto plan = std::make_unique<ConvPlan>();
  ConvPlan& P = *plan;
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &P.xD);
  VGG_CUDNN_CALL(op, cudnnCreateTensorDescriptor, &P.yD);
  VGG_CUDNN_CALL(op, cudnnCreateFilterDescriptor, &P.wD);
  VGG_CUDNN_CALL(op, cudnnCreateConvolutionDescriptor, &P.cD);
  set4d(op, P.xD, x.shape);
  set4d(op, P.yD, y.shape);
  VGG_CUDNN_CALL(op, cudnnSetFilter4dDescriptor, P.wD, cu::CUDNN_DATA_FLOAT, cu::CUDNN_TENSOR_NCHW, (int)w.shape[0], (int)w.shape[1],
                 (int)w.shape[2], (int)w.shape[3]);
  VGG_CUDNN_CALL(op, cudnnSetConvolution2dDescriptor, P.cD, p.padH, p.padW, p.strideH, p.strideW, 1, 1, cu::CUDNN_CROSS_CORRELATION,
                 cu::CUDNN_DATA_FLOAT);
  plans[key] = std::move(plan);
  return P;
}

// FMA math keeps fp32 exact on Ampere and later (DEFAULT_MATH there allows TF32).
cu::cudnnMathType_t searchMath() { return cuda().tf32() ? cu::CUDNN_DEFAULT_MATH : cu::CUDNN_FMA_MATH; }

// The fastest successful result that fits the workspace; with TF32 off, only FMA-math results.
template <class Perf>
const Perf* pick(const Perf* r, int n, size_t cap) {
  for (int i = 0; i < n; i++) {
    if (r[i].status != cu::CUDNN_STATUS_SUCCESS || r[i].memory > cap) continue;
    if (!cuda().tf32() && r[i].mathType != cu::CUDNN_FMA_MATH && r[i].mathType != cu::CUDNN_DEFAULT_MATH) continue;
    return &r[i];
  }
  return nullptr;
}

[[noreturn]] void noAlgorithm(const char* op, const char* call, int n) {
  throw BackendErr(op, call, "no algorithm succeeded within the " + std::to_string(findWorkspaceBytes() >> 20) + " MiB workspace (" +
                                 std::to_string(n) + " tried; VGG_CIFAR_CUDNN_WORKSPACE_MB raises it)");
}

}  // namespace

void CudaBackend::conv2dForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, const ConvParams& p, bool fuseRelu) {
  const char* op = "conv2dForward";
  requirePlainF32(op, {&x, &w, b, &y});
  Context& c = ctx(op);
  ConvPlan& P = planFor(op, x, w, y, p);
  if (!P.fwdFound) {
    VGG_CUDNN_CALL(op, cudnnSetConvolutionMathType, P.cD, searchMath());
    size_t cap = findWorkspaceBytes();
    void* ws = workspace(op, cap);
    cu::cudnnConvolutionFwdAlgoPerf_t r[cu::CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int n = 0;
    VGG_CUDNN_CALL(op, cudnnFindConvolutionForwardAlgorithmEx, c.dnn, P.xD, x.data(), P.wD, w.data(), P.cD, P.yD, y.data(),
                   cu::CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, r, ws, cap);
    const auto* best = pick(r, n, cap);
    if (!best) noAlgorithm(op, "cudnnFindConvolutionForwardAlgorithmEx", n);
    P.fwd = best->algo;
    P.fwdMath = cuda().tf32() ? best->mathType : cu::CUDNN_FMA_MATH;
    P.fwdWs = best->memory;
    P.fwdFound = true;
  }
  VGG_CUDNN_CALL(op, cudnnSetConvolutionMathType, P.cD, P.fwdMath);
  const float one = 1.0f, zero = 0.0f;
  void* ws = workspace(op, P.fwdWs);
  VGG_CUDNN_CALL(op, cudnnConvolutionForward, c.dnn, &one, P.xD, x.data(), P.wD, w.data(), P.cD, P.fwd, ws, P.fwdWs, &zero, P.yD, y.data());
  if (b || fuseRelu)
    launchBiasAct(op, y.as<float>(), b ? b->as<float>() : nullptr, y.shape[0], y.shape[1], y.shape[2] * y.shape[3], fuseRelu, c.stream);
}

void CudaBackend::conv2dBackwardData(const Tensor& dy, const Tensor& w, const Tensor& dx, const ConvParams& p) {
  const char* op = "conv2dBackwardData";
  requirePlainF32(op, {&dy, &w, &dx});
  Context& c = ctx(op);
  ConvPlan& P = planFor(op, dx, w, dy, p);
  if (!P.bwdDataFound) {
    VGG_CUDNN_CALL(op, cudnnSetConvolutionMathType, P.cD, searchMath());
    size_t cap = findWorkspaceBytes();
    void* ws = workspace(op, cap);
    cu::cudnnConvolutionBwdDataAlgoPerf_t r[cu::CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int n = 0;
    VGG_CUDNN_CALL(op, cudnnFindConvolutionBackwardDataAlgorithmEx, c.dnn, P.wD, w.data(), P.yD, dy.data(), P.cD, P.xD, dx.data(),
                   cu::CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, r, ws, cap);
    const auto* best = pick(r, n, cap);
    if (!best) noAlgorithm(op, "cudnnFindConvolutionBackwardDataAlgorithmEx", n);
    P.bwdData = best->algo;
    P.bwdDataMath = cuda().tf32() ? best->mathType : cu::CUDNN_FMA_MATH;
    P.bwdDataWs = best->memory;
    P.bwdDataFound = true;
  }
  VGG_CUDNN_CALL(op, cudnnSetConvolutionMathType, P.cD, P.bwdDataMath);
  const float one = 1.0f, zero = 0.0f;
  void* ws = workspace(op, P.bwdDataWs);
  VGG_CUDNN_CALL(op, cudnnConvolutionBackwardData, c.dnn, &one, P.wD, w.data(), P.yD, dy.data(), P.cD, P.bwdData, ws, P.bwdDataWs, &zero,
                 P.xD, dx.data());
}

void CudaBackend::conv2dBackwardFilter(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor* db, const ConvParams& p) {
  const char* op = "conv2dBackwardFilter";
  requirePlainF32(op, {&x, &dy, &dw, db});
  Context& c = ctx(op);
  ConvPlan& P = planFor(op, x, dw, dy, p);
  if (!P.bwdFilterFound) {
    VGG_CUDNN_CALL(op, cudnnSetConvolutionMathType, P.cD, searchMath());
    size_t cap = findWorkspaceBytes();
    void* ws = workspace(op, cap);
    cu::cudnnConvolutionBwdFilterAlgoPerf_t r[cu::CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int n = 0;
    VGG_CUDNN_CALL(op, cudnnFindConvolutionBackwardFilterAlgorithmEx, c.dnn, P.xD, x.data(), P.yD, dy.data(), P.cD, P.wD, dw.data(),
                   cu::CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, r, ws, cap);
    const auto* best = pick(r, n, cap);
    if (!best) noAlgorithm(op, "cudnnFindConvolutionBackwardFilterAlgorithmEx", n);
    P.bwdFilter = best->algo;
    P.bwdFilterMath = cuda().tf32() ? best->mathType : cu::CUDNN_FMA_MATH;
    P.bwdFilterWs = best->memory;
    P.bwdFilterFound = true;
  }
  VGG_CUDNN_CALL(op, cudnnSetConvolutionMathType, P.cD, P.bwdFilterMath);
  const float one = 1.0f, zero = 0.0f;
  void* ws = workspace(op, P.bwdFilterWs);
  VGG_CUDNN_CALL(op, cudnnConvolutionBackwardFilter, c.dnn, &one, P.xD, x.data(), P.yD, dy.data(), P.cD, P.bwdFilter, ws, P.bwdFilterWs,
                 &zero, P.wD, dw.data());
  if (db) launchBiasGrad(op, dy.as<float>(), db->as<float>(), dy.shape[0], dy.shape[1], dy.shape[2] * dy.shape[3], c.stream);
}

}  // namespace vgg

// Max pooling through oneDNN's pooling primitives (v2 API), cached per (shapes, layout, parameters).
// Training forward keeps a workspace (the argmax positions) that the backward reads; the caller owns
// it as a uint8 tensor of maxPool2dWorkspaceSize bytes. PyTorch's output size floor((H + 2p - k) / s) + 1
// is expressed to oneDNN with a right padding that may be smaller than the left one.
#include <map>
#include <memory>
#include <tuple>
#include "cpu/cpu_backend.h"
#include "cpu/scratchpad.h"

namespace vgg {

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;

struct PoolPrims {
  dnnl::pooling_forward::primitive_desc fwdPd;
  dnnl::pooling_forward fwd;
  dnnl::pooling_backward bwd;  // empty for inference
  memory fwdScratch, bwdScratch;
  bool hasBwd = false;
};

using Key = std::tuple<std::vector<int64_t>, std::vector<int64_t>, int, int, int, int, int, int, int, int, bool>;

std::mutex cacheMutex;
std::map<Key, std::shared_ptr<PoolPrims>> cache;
std::mutex gPoolExecMutex;
ScratchArena gPoolScratch;  // used under gPoolExecMutex

int64_t padRight(int64_t in, int64_t out, int k, int s, int pl) { return std::max<int64_t>(0, (out - 1) * s + k - in - pl); }

std::shared_ptr<PoolPrims> prims(const char* op, const Tensor& x, const Tensor& y, const PoolParams& p, bool training) {
  Key key{x.shape, y.shape, (int)x.layout, (int)x.dtype, p.kernelH, p.kernelW, p.strideH, p.strideW, p.padH, p.padW, training};
  std::lock_guard<std::mutex> lock(cacheMutex);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto pr = std::make_shared<PoolPrims>();
  dnnlCall(op, "pooling primitive_desc", [&] {
    auto& eng = cpu().engine();
    memory::dims strides{p.strideH, p.strideW}, kernel{p.kernelH, p.kernelW}, padL{p.padH, p.padW};
    memory::dims padR{padRight(x.shape[2], y.shape[2], p.kernelH, p.strideH, p.padH),
                      padRight(x.shape[3], y.shape[3], p.kernelW, p.strideW, p.padW)};
    memory::desc xmd = mdOf(x), ymd = mdOf(y);
    auto kind = training ? prop_kind::forward_training : prop_kind::forward_inference;
    dnnl::pooling_forward::desc fd(kind, algorithm::pooling_max, xmd, ymd, strides, kernel, padL, padR);
    pr->fwdPd = dnnl::pooling_forward::primitive_desc(fd, ScratchArena::userMode(), eng);
    pr->fwd = dnnl::pooling_forward(pr->fwdPd);
    pr->fwdScratch = ScratchArena::slot(pr->fwdPd.scratchpad_desc());
    if (training) {
      dnnl::pooling_backward::desc bd(algorithm::pooling_max, xmd, ymd, strides, kernel, padL, padR);
      dnnl::pooling_backward::primitive_desc bpd(bd, ScratchArena::userMode(), eng, pr->fwdPd);
      pr->bwd = dnnl::pooling_backward(bpd);
      pr->bwdScratch = ScratchArena::slot(bpd.scratchpad_desc());
      pr->hasBwd = true;
    }
  });
  cache.emplace(key, pr);
  return pr;
}

}  // namespace

size_t CpuBackend::maxPool2dWorkspaceSize(const Tensor& x, const Tensor& y, const PoolParams& p) {
  return prims("maxPool2dWorkspaceSize", x, y, p, true)->fwdPd.workspace_desc().get_size();
}

void CpuBackend::maxPool2dForward(const Tensor& x, const Tensor& y, const Tensor* ws, const PoolParams& p) {
  auto pr = prims("maxPool2dForward", x, y, p, ws != nullptr);
  dnnlCall("maxPool2dForward", "pooling_forward", [&] {
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memOf(x)}, {DNNL_ARG_DST, memOf(y)}};
    if (ws) args.emplace(DNNL_ARG_WORKSPACE, memory(pr->fwdPd.workspace_desc(), engine_, ws->data()));
    std::lock_guard<std::mutex> lock(gPoolExecMutex);
    gPoolScratch.bind(pr->fwdScratch, args);
    pr->fwd.execute(stream_, args);
    stream_.wait();
  });
}

void CpuBackend::maxPool2dBackward(const Tensor& dy, const Tensor& x, const Tensor& y, const Tensor& ws, const Tensor& dx,
                                   const PoolParams& p) {
  auto pr = prims("maxPool2dBackward", x, y, p, true);
  dnnlCall("maxPool2dBackward", "pooling_backward", [&] {
    std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, memOf(dy)},
                                         {DNNL_ARG_DIFF_SRC, memOf(dx)},
                                         {DNNL_ARG_WORKSPACE, memory(pr->fwdPd.workspace_desc(), engine_, ws.data())}};
    std::lock_guard<std::mutex> lock(gPoolExecMutex);
    gPoolScratch.bind(pr->bwdScratch, args);
    pr->bwd.execute(stream_, args);
    stream_.wait();
  });
}

}  // namespace vgg

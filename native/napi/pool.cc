// Argument checks of the max-pooling ops (see binding.d.ts), then dispatch to the tensors' backend.
#include <cmath>
#include "core/backend.h"
#include "napi/args.h"

namespace vgg {

static PoolParams poolParams(Args& a, size_t i) {
  Napi::Object o = a.object(i, "p");
  PoolParams p;
  p.kernelH = (int)a.intField(o, "kernelH", 1, 1 << 16);
  p.kernelW = (int)a.intField(o, "kernelW", 1, 1 << 16);
  p.strideH = (int)a.intField(o, "strideH", 1, 1 << 16);
  p.strideW = (int)a.intField(o, "strideW", 1, 1 << 16);
  p.padH = (int)a.intField(o, "padH", 0, 1 << 16);
  p.padW = (int)a.intField(o, "padW", 0, 1 << 16);
  // PyTorch's rule: padding at most half the kernel, so every window sees a real element.
  if (p.padH > p.kernelH / 2 || p.padW > p.kernelW / 2)
    a.rangeError(fmt("padding (%d, %d) must be at most half the kernel (%d, %d)", p.padH, p.padW, p.kernelH, p.kernelW));
  return p;
}

// Checks x and y (and their gradients) and returns x's backend.
static Backend& checkPool(Args& a, const Tensor& x, const Tensor& y, const PoolParams& p) {
  a.floating(x, "x");
  a.sameDType(x, "x", y, "y");
  a.dims(x, "x", 4);
  a.sameDevice({&x, &y});
  a.sameLayout(x, "x", y, "y");
  a.noAlias(x, "x", y, "y");
  const int64_t H = x.shape[2], W = x.shape[3];
  if (H + 2 * p.padH < p.kernelH || W + 2 * p.padW < p.kernelW)
    a.rangeError(fmt("x %s padded by (%d, %d) is smaller than the kernel (%d, %d)", x.describe().c_str(), p.padH, p.padW, p.kernelH,
                     p.kernelW));
  const int64_t OH = (H + 2 * p.padH - p.kernelH) / p.strideH + 1, OW = (W + 2 * p.padW - p.kernelW) / p.strideW + 1;
  a.shapeIs(y, "y", {x.shape[0], x.shape[1], OH, OW});
  return backendFor(x.device);
}

static void checkWorkspace(Args& a, Backend& be, const Tensor& ws, const Tensor& x, const Tensor& y, const PoolParams& p) {
  a.dtype(ws, "workspace", DType::u8);
  a.plain(ws, "workspace");
  a.sameDevice({&x, &ws});
  size_t need = be.maxPool2dWorkspaceSize(x, y, p);
  if ((size_t)ws.numel() < need)
    a.rangeError(fmt("workspace must hold at least %zu bytes for x %s, got %s", need, x.describe().c_str(), ws.describe().c_str()));
}

static Napi::Value maxPool2dWorkspaceSize(const Napi::CallbackInfo& info) {
  Args a(info, "maxPool2dWorkspaceSize", 3, 3);
  Tensor& x = a.tensor(0, "x");
  Tensor& y = a.tensor(1, "y");
  PoolParams p = poolParams(a, 2);
  Backend& be = checkPool(a, x, y, p);
  return Napi::Number::New(info.Env(), (double)be.maxPool2dWorkspaceSize(x, y, p));
}

static Napi::Value maxPool2dForward(const Napi::CallbackInfo& info) {
  Args a(info, "maxPool2dForward", 4, 4);
  Tensor& x = a.tensor(0, "x");
  Tensor& y = a.tensor(1, "y");
  Tensor* ws = a.tensorOrNull(2, "workspace");
  PoolParams p = poolParams(a, 3);
  Backend& be = checkPool(a, x, y, p);
  if (ws) checkWorkspace(a, be, *ws, x, y, p);
  if (y.numel()) be.maxPool2dForward(x, y, ws, p);
  y.touch();
  if (ws) ws->touch();
  return info.Env().Undefined();
}

static Napi::Value maxPool2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "maxPool2dBackward", 6, 6);
  Tensor& dy = a.tensor(0, "dy");
  Tensor& x = a.tensor(1, "x");
  Tensor& y = a.tensor(2, "y");
  Tensor& ws = a.tensor(3, "workspace");
  Tensor& dx = a.tensor(4, "dx");
  PoolParams p = poolParams(a, 5);
  Backend& be = checkPool(a, x, y, p);
  a.sameDType(x, "x", dy, "dy");
  a.sameDType(x, "x", dx, "dx");
  a.sameDevice({&x, &dy, &dx});
  a.shapeIs(dy, "dy", y.shape);
  a.shapeIs(dx, "dx", x.shape);
  a.sameLayout(x, "x", dy, "dy");
  a.sameLayout(x, "x", dx, "dx");
  a.noAlias(dy, "dy", dx, "dx");
  checkWorkspace(a, be, ws, x, y, p);
  if (dx.numel()) be.maxPool2dBackward(dy, x, y, ws, dx, p);
  dx.touch();
  return info.Env().Undefined();
}

void registerPool(Napi::Env env, Napi::Object exports) {
  VGG_EXPORT(exports, "maxPool2dWorkspaceSize", maxPool2dWorkspaceSize);
  VGG_EXPORT(exports, "maxPool2dForward", maxPool2dForward);
  VGG_EXPORT(exports, "maxPool2dBackward", maxPool2dBackward);
}

}  // namespace vgg

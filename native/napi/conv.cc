// Argument checks of the convolution ops: every shape is derived from the others and checked exactly,
// so a backend only ever sees consistent NCHW / OIHW shapes. Activations and weights share one dtype
// (float32, or bfloat16 for mixed precision); dw is float32 or that dtype; biases are float32.
#include "core/backend.h"
#include "napi/args.h"

namespace vgg {

static const int64_t kMaxParam = 1 << 20;

static ConvParams convParams(Args& a, size_t i) {
  Napi::Object o = a.object(i, "p");
  ConvParams p;
  p.strideH = (int)a.intField(o, "strideH", 1, kMaxParam);
  p.strideW = (int)a.intField(o, "strideW", 1, kMaxParam);
  p.padH = (int)a.intField(o, "padH", 0, kMaxParam);
  p.padW = (int)a.intField(o, "padW", 0, kMaxParam);
  return p;
}

// A float32 or bfloat16 4-D tensor whose dimensions are all >= 1 (layout free unless plainOnly).
static void act4(Args& a, const Tensor& t, const char* name, bool plainOnly) {
  a.floating(t, name);
  a.dims(t, name, 4);
  for (int64_t d : t.shape)
    if (d < 1) a.rangeError(fmt("%s must have no empty dimension, got %s", name, t.describe().c_str()));
  if (plainOnly) a.plain(t, name);
}

// The output shape [N,O,Ho,Wo] PyTorch gives for input x[N,C,H,W] and weights w[O,C,kh,kw].
static std::vector<int64_t> outShape(Args& a, const std::vector<int64_t>& x, const std::vector<int64_t>& w, const ConvParams& p,
                                     const char* xName) {
  int64_t ph = x[2] + 2 * (int64_t)p.padH, pw = x[3] + 2 * (int64_t)p.padW;
  if (w[2] > ph || w[3] > pw)
    a.rangeError(fmt("kernel %lldx%lld is larger than the padded input %lldx%lld (%s %s, padH=%d padW=%d)", (long long)w[2],
                     (long long)w[3], (long long)ph, (long long)pw, xName, shapeString(x).c_str(), p.padH, p.padW));
  return {x[0], w[0], (ph - w[2]) / p.strideH + 1, (pw - w[3]) / p.strideW + 1};
}

static void bias(Args& a, const Tensor* b, const char* name, int64_t O) {
  if (!b) return;
  a.dtype(*b, name, DType::f32);
  a.shapeIs(*b, name, {O});
}

// conv2dForward(x, w, b | null, y, p, fuseRelu)
static Napi::Value conv2dForward(const Napi::CallbackInfo& info) {
  Args a(info, "conv2dForward", 6, 6);
  Tensor& x = a.tensor(0, "x");
  Tensor& w = a.tensor(1, "w");
  Tensor* b = a.tensorOrNull(2, "b");
  Tensor& y = a.tensor(3, "y");
  ConvParams p = convParams(a, 4);
  bool relu = a.boolean(5, "fuseRelu");
  act4(a, x, "x", false);
  act4(a, w, "w", true);
  a.shapeIs(w, "w", {w.shape[0], x.shape[1], w.shape[2], w.shape[3]});
  bias(a, b, "b", w.shape[0]);
  act4(a, y, "y", false);
  a.sameDType(x, "x", w, "w");
  a.sameDType(x, "x", y, "y");
  a.shapeIs(y, "y", outShape(a, x.shape, w.shape, p, "x"));
  a.sameDevice({&x, &w, b, &y});
  a.noAlias(y, "y", x, "x");
  a.noAlias(y, "y", w, "w");
  if (b) a.noAlias(y, "y", *b, "b");
  backendFor(x.device).conv2dForward(x, w, b, y, p, relu);
  y.touch();
  return info.Env().Undefined();
}

// conv2dBackwardData(dy, w, dx, p)
static Napi::Value conv2dBackwardData(const Napi::CallbackInfo& info) {
  Args a(info, "conv2dBackwardData", 4, 4);
  Tensor& dy = a.tensor(0, "dy");
  Tensor& w = a.tensor(1, "w");
  Tensor& dx = a.tensor(2, "dx");
  ConvParams p = convParams(a, 3);
  act4(a, dx, "dx", false);
  act4(a, w, "w", true);
  a.shapeIs(w, "w", {w.shape[0], dx.shape[1], w.shape[2], w.shape[3]});
  act4(a, dy, "dy", false);
  a.sameDType(dy, "dy", w, "w");
  a.sameDType(dy, "dy", dx, "dx");
  a.shapeIs(dy, "dy", outShape(a, dx.shape, w.shape, p, "dx"));
  a.sameDevice({&dy, &w, &dx});
  a.noAlias(dx, "dx", dy, "dy");
  a.noAlias(dx, "dx", w, "w");
  backendFor(dx.device).conv2dBackwardData(dy, w, dx, p);
  dx.touch();
  return info.Env().Undefined();
}

// conv2dBackwardFilter(x, dy, dw, db | null, p)
static Napi::Value conv2dBackwardFilter(const Napi::CallbackInfo& info) {
  Args a(info, "conv2dBackwardFilter", 5, 5);
  Tensor& x = a.tensor(0, "x");
  Tensor& dy = a.tensor(1, "dy");
  Tensor& dw = a.tensor(2, "dw");
  Tensor* db = a.tensorOrNull(3, "db");
  ConvParams p = convParams(a, 4);
  act4(a, x, "x", false);
  act4(a, dw, "dw", true);
  a.shapeIs(dw, "dw", {dw.shape[0], x.shape[1], dw.shape[2], dw.shape[3]});
  bias(a, db, "db", dw.shape[0]);
  act4(a, dy, "dy", false);
  a.sameDType(x, "x", dy, "dy");
  a.gradDType(dw, "dw", x, "x");
  a.shapeIs(dy, "dy", outShape(a, x.shape, dw.shape, p, "x"));
  a.sameDevice({&x, &dy, &dw, db});
  a.noAlias(dw, "dw", x, "x");
  a.noAlias(dw, "dw", dy, "dy");
  if (db) {
    a.noAlias(*db, "db", x, "x");
    a.noAlias(*db, "db", dy, "dy");
    a.noAlias(*db, "db", dw, "dw");
  }
  backendFor(x.device).conv2dBackwardFilter(x, dy, dw, db, p);
  dw.touch();
  if (db) db->touch();
  return info.Env().Undefined();
}

void registerConv(Napi::Env env, Napi::Object exports) {
  VGG_EXPORT(exports, "conv2dForward", conv2dForward);
  VGG_EXPORT(exports, "conv2dBackwardData", conv2dBackwardData);
  VGG_EXPORT(exports, "conv2dBackwardFilter", conv2dBackwardFilter);
}

}  // namespace vgg

// Argument checks of the linear ops: y[N,M] = x[N,K] w[M,K]^T + b[M]. 2-D plain tensors only (the
// caller flattens 4-D activations with reshape). x, w, y, dy, dx share one dtype (float32 or bfloat16);
// dw is float32 or that dtype; biases are float32.
#include "core/backend.h"
#include "napi/args.h"

namespace vgg {

// A 2-D plain float32 or bfloat16 matrix.
static void mat(Args& a, const Tensor& t, const char* name) {
  a.floating(t, name);
  a.dims(t, name, 2);
  if (t.shape[0] < 1 || t.shape[1] < 1) a.rangeError(fmt("%s must have no empty dimension, got %s", name, t.describe().c_str()));
  a.plain(t, name);
}

static void vec(Args& a, const Tensor* t, const char* name, int64_t M) {
  if (!t) return;
  a.dtype(*t, name, DType::f32);
  a.shapeIs(*t, name, {M});
}

// linearForward(x, w, b | null, y, fuseRelu)
static Napi::Value linearForward(const Napi::CallbackInfo& info) {
  Args a(info, "linearForward", 5, 5);
  Tensor& x = a.tensor(0, "x");
  Tensor& w = a.tensor(1, "w");
  Tensor* b = a.tensorOrNull(2, "b");
  Tensor& y = a.tensor(3, "y");
  bool relu = a.boolean(4, "fuseRelu");
  mat(a, x, "x");
  mat(a, w, "w");
  a.sameDType(x, "x", w, "w");
  int64_t N = x.shape[0], K = x.shape[1], M = w.shape[0];
  a.shapeIs(w, "w", {M, K});
  vec(a, b, "b", M);
  mat(a, y, "y");
  a.sameDType(x, "x", y, "y");
  a.shapeIs(y, "y", {N, M});
  a.sameDevice({&x, &w, b, &y});
  a.noAlias(y, "y", x, "x");
  a.noAlias(y, "y", w, "w");
  if (b) a.noAlias(y, "y", *b, "b");
  backendFor(x.device).linearForward(x, w, b, y, relu);
  y.touch();
  return info.Env().Undefined();
}

// linearBackward(x, w, dy, dx | null, dw, db | null)
static Napi::Value linearBackward(const Napi::CallbackInfo& info) {
  Args a(info, "linearBackward", 6, 6);
  Tensor& x = a.tensor(0, "x");
  Tensor& w = a.tensor(1, "w");
  Tensor& dy = a.tensor(2, "dy");
  Tensor* dx = a.tensorOrNull(3, "dx");
  Tensor& dw = a.tensor(4, "dw");
  Tensor* db = a.tensorOrNull(5, "db");
  mat(a, x, "x");
  mat(a, w, "w");
  int64_t N = x.shape[0], K = x.shape[1], M = w.shape[0];
  a.shapeIs(w, "w", {M, K});
  a.sameDType(x, "x", w, "w");
  mat(a, dy, "dy");
  a.sameDType(x, "x", dy, "dy");
  a.shapeIs(dy, "dy", {N, M});
  if (dx) {
    mat(a, *dx, "dx");
    a.sameDType(x, "x", *dx, "dx");
    a.shapeIs(*dx, "dx", {N, K});
  }
  mat(a, dw, "dw");
  a.gradDType(dw, "dw", x, "x");
  a.shapeIs(dw, "dw", {M, K});
  vec(a, db, "db", M);
  a.sameDevice({&x, &w, &dy, dx, &dw, db});
  const Tensor* ins[] = {&x, &w, &dy};
  const char* inNames[] = {"x", "w", "dy"};
  for (int i = 0; i < 3; i++) {
    if (dx) a.noAlias(*dx, "dx", *ins[i], inNames[i]);
    a.noAlias(dw, "dw", *ins[i], inNames[i]);
    if (db) a.noAlias(*db, "db", *ins[i], inNames[i]);
  }
  if (dx) a.noAlias(*dx, "dx", dw, "dw");
  if (db) {
    a.noAlias(*db, "db", dw, "dw");
    if (dx) a.noAlias(*db, "db", *dx, "dx");
  }
  backendFor(x.device).linearBackward(x, w, dy, dx, dw, db);
  if (dx) dx->touch();
  dw.touch();
  if (db) db->touch();
  return info.Env().Undefined();
}

void registerLinear(Napi::Env env, Napi::Object exports) {
  VGG_EXPORT(exports, "linearForward", linearForward);
  VGG_EXPORT(exports, "linearBackward", linearBackward);
}

}  // namespace vgg

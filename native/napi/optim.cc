// Argument checks of the fused optimizer updates (see binding.d.ts): the parameter, its gradient and
// every state tensor are float32 with one shape and one layout; hyper-parameters are finite and in
// the ranges torch.optim accepts.
#include <cmath>
#include "core/backend.h"
#include "napi/args.h"
#include "napi/optim_args.h"

namespace vgg {

static const double kInf = HUGE_VAL;
static const int64_t kMaxStep = (int64_t)1 << 52;

void like(Args& a, const Tensor& param, const Tensor& t, const char* name, const char* paramName) {
  a.dtype(t, name, DType::f32);
  a.sameDevice({&param, &t});
  a.sameShape(param, paramName, t, name);
  a.sameLayout(param, paramName, t, name);
  a.noAlias(param, paramName, t, name);
}

static double positive(Args& a, const Napi::Object& o, const char* key) {
  double v = a.field(o, key, 0.0, kInf);
  if (!(v > 0.0)) a.rangeError(fmt("option %s must be > 0, got %g", key, v));
  return v;
}

SgdParams sgdParams(Args& a, const Napi::Object& o) {
  SgdParams p;
  p.lr = (float)a.field(o, "lr", 0.0, kInf);
  p.momentum = (float)a.field(o, "momentum", 0.0, 1.0);
  p.dampening = (float)a.field(o, "dampening", 0.0, 1.0);
  p.nesterov = a.boolField(o, "nesterov");
  p.weightDecay = (float)a.field(o, "weightDecay", 0.0, kInf);
  p.maximize = a.boolField(o, "maximize");
  p.firstStep = a.boolField(o, "firstStep");
  if (p.nesterov && (p.momentum <= 0.0f || p.dampening != 0.0f))
    a.rangeError(fmt("nesterov needs momentum > 0 and dampening 0, got momentum %g, dampening %g", p.momentum, p.dampening));
  return p;
}

AdamParams adamParams(Args& a, const Napi::Object& o) {
  AdamParams p;
  p.lr = (float)a.field(o, "lr", 0.0, kInf);
  p.beta1 = (float)a.field(o, "beta1", 0.0, 1.0);
  p.beta2 = (float)a.field(o, "beta2", 0.0, 1.0);
  if (p.beta1 >= 1.0f || p.beta2 >= 1.0f) a.rangeError(fmt("betas must be in [0, 1), got beta1 %g, beta2 %g", p.beta1, p.beta2));
  p.eps = (float)positive(a, o, "eps");
  p.weightDecay = (float)a.field(o, "weightDecay", 0.0, kInf);
  p.decoupled = a.boolField(o, "decoupled");
  p.amsgrad = a.boolField(o, "amsgrad");
  p.maximize = a.boolField(o, "maximize");
  p.step = a.intField(o, "step", 1, kMaxStep);
  return p;
}

AdagradParams adagradParams(Args& a, const Napi::Object& o) {
  AdagradParams p;
  p.lr = (float)a.field(o, "lr", 0.0, kInf);
  p.lrDecay = (float)a.field(o, "lrDecay", 0.0, kInf);
  p.weightDecay = (float)a.field(o, "weightDecay", 0.0, kInf);
  p.eps = (float)positive(a, o, "eps");
  p.maximize = a.boolField(o, "maximize");
  p.step = a.intField(o, "step", 1, kMaxStep);
  return p;
}

static Napi::Value sgdUpdate(const Napi::CallbackInfo& info) {
  Args a(info, "sgdUpdate", 4, 4);
  Tensor& param = a.tensor(0, "param");
  Tensor& grad = a.tensor(1, "grad");
  Tensor* buf = a.tensorOrNull(2, "momentumBuf");
  SgdParams p = sgdParams(a, a.object(3, "p"));
  a.dtype(param, "param", DType::f32);
  like(a, param, grad, "grad");
  if (p.momentum != 0.0f) {
    if (!buf) a.rangeError(fmt("momentum %g needs a momentumBuf like param %s, got null", p.momentum, param.describe().c_str()));
    like(a, param, *buf, "momentumBuf");
    a.noAlias(grad, "grad", *buf, "momentumBuf");
  }
  if (param.numel()) backendFor(param.device).sgdUpdate(param, grad, buf, p);
  param.touch();
  if (buf && p.momentum != 0.0f) buf->touch();
  return info.Env().Undefined();
}

static Napi::Value adamUpdate(const Napi::CallbackInfo& info) {
  Args a(info, "adamUpdate", 6, 6);
  Tensor& param = a.tensor(0, "param");
  Tensor& grad = a.tensor(1, "grad");
  Tensor& m = a.tensor(2, "expAvg");
  Tensor& v = a.tensor(3, "expAvgSq");
  Tensor* vmax = a.tensorOrNull(4, "maxExpAvgSq");
  AdamParams p = adamParams(a, a.object(5, "p"));
  a.dtype(param, "param", DType::f32);
  like(a, param, grad, "grad");
  like(a, param, m, "expAvg");
  like(a, param, v, "expAvgSq");
  a.noAlias(m, "expAvg", v, "expAvgSq");
  if (p.amsgrad) {
    if (!vmax) a.rangeError(fmt("amsgrad needs a maxExpAvgSq like param %s, got null", param.describe().c_str()));
    like(a, param, *vmax, "maxExpAvgSq");
    a.noAlias(v, "expAvgSq", *vmax, "maxExpAvgSq");
  }
  if (param.numel()) backendFor(param.device).adamUpdate(param, grad, m, v, vmax, p);
  for (Tensor* t : {&param, &m, &v}) t->touch();
  if (vmax && p.amsgrad) vmax->touch();
  return info.Env().Undefined();
}

static Napi::Value adagradUpdate(const Napi::CallbackInfo& info) {
  Args a(info, "adagradUpdate", 4, 4);
  Tensor& param = a.tensor(0, "param");
  Tensor& grad = a.tensor(1, "grad");
  Tensor& sum = a.tensor(2, "stateSum");
  AdagradParams p = adagradParams(a, a.object(3, "p"));
  a.dtype(param, "param", DType::f32);
  like(a, param, grad, "grad");
  like(a, param, sum, "stateSum");
  if (param.numel()) backendFor(param.device).adagradUpdate(param, grad, sum, p);
  param.touch();
  sum.touch();
  return info.Env().Undefined();
}

void registerOptim(Napi::Env env, Napi::Object exports) {
  VGG_EXPORT(exports, "sgdUpdate", sgdUpdate);
  VGG_EXPORT(exports, "adamUpdate", adamUpdate);
  VGG_EXPORT(exports, "adagradUpdate", adagradUpdate);
  registerOptimMulti(env, exports);
}

}  // namespace vgg

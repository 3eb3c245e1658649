// Argument checks of batchNorm2dForward/Backward (see binding.d.ts): x/y/dy/dx are NCHW float32 or
// bfloat16 sharing one dtype and layout; per-channel tensors are plain float32 [C].
#include <cmath>
#include "core/backend.h"
#include "napi/args.h"

namespace vgg {

static void channelVector(Args& a, const Tensor& x, const Tensor& t, const char* name) {
  a.dtype(t, name, DType::f32);
  a.plain(t, name);
  a.sameDevice({&x, &t});
  a.shapeIs(t, name, {x.shape[1]});
}

static void activation(Args& a, const Tensor& x, const Tensor& t, const char* name) {
  a.sameDType(x, "x", t, name);
  a.sameDevice({&x, &t});
  a.sameShape(x, "x", t, name);
  a.sameLayout(x, "x", t, name);
}

static float epsValue(Args& a, double eps) {
  if (!(eps > 0.0)) a.rangeError(fmt("eps must be > 0, got %g", eps));
  return (float)eps;
}

static Napi::Value batchNorm2dForward(const Napi::CallbackInfo& info) {
  Args a(info, "batchNorm2dForward", 9, 9);
  Tensor& x = a.tensor(0, "x");
  Tensor& gamma = a.tensor(1, "gamma");
  Tensor& beta = a.tensor(2, "beta");
  Tensor& rm = a.tensor(3, "runningMean");
  Tensor& rv = a.tensor(4, "runningVar");
  Tensor& y = a.tensor(5, "y");
  Tensor& sm = a.tensor(6, "saveMean");
  Tensor& si = a.tensor(7, "saveInvStd");
  Napi::Object o = a.object(8, "p");
  BatchNormParams p;
  p.training = a.boolField(o, "training");
  p.momentum = (float)a.field(o, "momentum", 0.0, 1.0);
  p.eps = epsValue(a, a.field(o, "eps", 0.0, 1.0));
  p.relu = o.Has("relu") && !o.Get("relu").IsUndefined() ? a.boolField(o, "relu") : false;
  a.floating(x, "x");
  a.dims(x, "x", 4);
  activation(a, x, y, "y");
  channelVector(a, x, gamma, "gamma");
  channelVector(a, x, beta, "beta");
  channelVector(a, x, rm, "runningMean");
  channelVector(a, x, rv, "runningVar");
  channelVector(a, x, sm, "saveMean");
  channelVector(a, x, si, "saveInvStd");
  if (p.training && x.shape[0] * x.shape[2] * x.shape[3] <= 1)
    a.rangeError(fmt("training needs more than 1 value per channel, got x %s", x.describe().c_str()));
  if (x.numel()) backendFor(x.device).batchNorm2dForward(x, gamma, beta, rm, rv, y, sm, si, p);
  y.touch();
  if (p.training) {
    for (Tensor* t : {&rm, &rv, &sm, &si}) t->touch();
  }
  return info.Env().Undefined();
}

static Napi::Value batchNorm2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "batchNorm2dBackward", 9, 10);
  Tensor& x = a.tensor(0, "x");
  Tensor& dy = a.tensor(1, "dy");
  Tensor& gamma = a.tensor(2, "gamma");
  Tensor& sm = a.tensor(3, "saveMean");
  Tensor& si = a.tensor(4, "saveInvStd");
  Tensor& dx = a.tensor(5, "dx");
  Tensor& dgamma = a.tensor(6, "dgamma");
  Tensor& dbeta = a.tensor(7, "dbeta");
  float eps = epsValue(a, a.number(8, "eps"));
  Tensor* reluY = a.tensorOrNull(9, "reluY");
  a.floating(x, "x");
  a.dims(x, "x", 4);
  activation(a, x, dy, "dy");
  activation(a, x, dx, "dx");
  a.noAlias(x, "x", dx, "dx");
  if (reluY) {
    activation(a, x, *reluY, "reluY");
    a.noAlias(*reluY, "reluY", dx, "dx");
  }
  for (auto [t, n] : {std::pair<Tensor*, const char*>{&gamma, "gamma"}, {&sm, "saveMean"}, {&si, "saveInvStd"}, {&dgamma, "dgamma"},
                      {&dbeta, "dbeta"}})
    channelVector(a, x, *t, n);
  if (x.numel()) backendFor(x.device).batchNorm2dBackward(x, dy, gamma, sm, si, dx, dgamma, dbeta, eps, reluY);
  for (Tensor* t : {&dy, &dx, &dgamma, &dbeta}) t->touch();
  return info.Env().Undefined();
}

void registerBatchNorm(Napi::Env env, Napi::Object exports) {
  VGG_EXPORT(exports, "batchNorm2dForward", batchNorm2dForward);
  VGG_EXPORT(exports, "batchNorm2dBackward", batchNorm2dBackward);
}

}  // namespace vgg

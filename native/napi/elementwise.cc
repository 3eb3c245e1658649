// Argument checks of ReLU, dropout and axpby (see binding.d.ts). These run over the physical buffer,
// so the tensors of one call must share a layout (element i is then the same logical element in all).
#include "core/backend.h"
#include "napi/args.h"

namespace vgg {

// t matches ref (float32 or bfloat16) in dtype, device, shape and layout.
static void floatLike(Args& a, const Tensor& ref, const char* rn, const Tensor& t, const char* tn) {
  a.floating(ref, rn);
  a.sameDType(ref, rn, t, tn);
  a.sameDevice({&ref, &t});
  a.sameShape(ref, rn, t, tn);
  a.sameLayout(ref, rn, t, tn);
}

static double seedArg(Args& a, size_t i) { return (double)a.integer(i, "seed", 0, (int64_t)9007199254740991LL); }

static float dropProb(Args& a, size_t i) {
  double p = a.number(i, "p");
  if (!(p >= 0.0 && p < 1.0)) a.rangeError(fmt("p must be in [0, 1), got %g", p));
  return (float)p;
}

// The mask is plain uint8 with x's shape, in logical order whatever x's layout.
static void checkMask(Args& a, const Tensor& x, const Tensor& mask) {
  a.dtype(mask, "mask", DType::u8);
  a.plain(mask, "mask");
  a.sameDevice({&x, &mask});
  a.shapeIs(mask, "mask", x.shape);
}

static Napi::Value reluForward(const Napi::CallbackInfo& info) {
  Args a(info, "reluForward", 2, 2);
  Tensor& x = a.tensor(0, "x");
  Tensor& y = a.tensor(1, "y");
  floatLike(a, x, "x", y, "y");
  if (x.numel()) backendFor(x.device).reluForward(x, y);
  y.touch();
  return info.Env().Undefined();
}

static Napi::Value reluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "reluBackward", 3, 3);
  Tensor& y = a.tensor(0, "y");
  Tensor& dy = a.tensor(1, "dy");
  Tensor& dx = a.tensor(2, "dx");
  floatLike(a, y, "y", dy, "dy");
  floatLike(a, y, "y", dx, "dx");
  if (y.numel()) backendFor(y.device).reluBackward(y, dy, dx);
  dx.touch();
  return info.Env().Undefined();
}

static Napi::Value dropoutForward(const Napi::CallbackInfo& info) {
  Args a(info, "dropoutForward", 5, 6);
  Tensor& x = a.tensor(0, "x");
  Tensor& mask = a.tensor(1, "mask");
  Tensor& y = a.tensor(2, "y");
  float p = dropProb(a, 3);
  uint64_t seed = (uint64_t)seedArg(a, 4);
  floatLike(a, x, "x", y, "y");
  checkMask(a, x, mask);
  const Tensor* seedTensor = seedTensorArg(a, 5, x);
  if (x.numel()) backendFor(x.device).dropoutForward(x, mask, y, p, seed, seedTensor);
  y.touch();
  mask.touch();
  return info.Env().Undefined();
}

static Napi::Value dropoutBackward(const Napi::CallbackInfo& info) {
  Args a(info, "dropoutBackward", 4, 4);
  Tensor& dy = a.tensor(0, "dy");
  Tensor& mask = a.tensor(1, "mask");
  Tensor& dx = a.tensor(2, "dx");
  float p = dropProb(a, 3);
  floatLike(a, dy, "dy", dx, "dx");
  checkMask(a, dy, mask);
  if (dy.numel()) backendFor(dy.device).dropoutBackward(dy, mask, dx, p);
  dx.touch();
  return info.Env().Undefined();
}

static Napi::Value axpby(const Napi::CallbackInfo& info) {
  Args a(info, "axpby", 4, 4);
  Tensor& x = a.tensor(0, "x");
  Tensor& y = a.tensor(1, "y");
  float alpha = (float)a.number(2, "alpha");
  float beta = (float)a.number(3, "beta");
  a.dtype(x, "x", DType::f32);
  floatLike(a, x, "x", y, "y");
  if (x.numel()) backendFor(x.device).axpby(x, y, alpha, beta);
  y.touch();
  return info.Env().Undefined();
}

static Napi::Value cast(const Napi::CallbackInfo& info) {
  Args a(info, "cast", 2, 2);
  Tensor& src = a.tensor(0, "src");
  Tensor& dst = a.tensor(1, "dst");
  bool down = src.dtype == DType::f32 && dst.dtype == DType::bf16, up = src.dtype == DType::bf16 && dst.dtype == DType::f32;
  if (!down && !up)
    a.typeError(fmt("converts float32 to bfloat16 or back; got src %s and dst %s", src.describe().c_str(), dst.describe().c_str()));
  a.sameDevice({&src, &dst});
  a.sameShape(src, "src", dst, "dst");
  a.sameLayout(src, "src", dst, "dst");
  if (src.numel()) backendFor(src.device).cast(src, dst);
  dst.touch();
  return info.Env().Undefined();
}

void registerElementwise(Napi::Env env, Napi::Object exports) {
  VGG_EXPORT(exports, "reluForward", reluForward);
  VGG_EXPORT(exports, "reluBackward", reluBackward);
  VGG_EXPORT(exports, "dropoutForward", dropoutForward);
  VGG_EXPORT(exports, "dropoutBackward", dropoutBackward);
  VGG_EXPORT(exports, "axpby", axpby);
  VGG_EXPORT(exports, "cast", cast);
}

}  // namespace vgg

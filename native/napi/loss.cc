// Argument checks of the loss and metric ops (see binding.d.ts). Logits are plain float32 [N, C];
// labels plain int32 [N] (their range is checked by the backend, which can read them).
#include "core/backend.h"
#include "napi/args.h"

namespace vgg {

static void logitsArg(Args& a, const Tensor& t, const char* name) {
  a.dtype(t, name, DType::f32);
  a.dims(t, name, 2);
  a.plain(t, name);
  if (t.shape[0] < 1 || t.shape[1] < 1) a.rangeError(fmt("%s needs at least one row and one class, got %s", name, t.describe().c_str()));
}

static void intVector(Args& a, const Tensor& logits, const Tensor& t, const char* name) {
  a.dtype(t, name, DType::i32);
  a.plain(t, name);
  a.sameDevice({&logits, &t});
  a.shapeIs(t, name, {logits.shape[0]});
}

// An accumulator: a plain 1-D tensor of the given dtype with at least one element; element 0 is used.
static void scalarOut(Args& a, const Tensor& ref, const Tensor& t, const char* name, DType dt) {
  a.dtype(t, name, dt);
  a.plain(t, name);
  a.sameDevice({&ref, &t});
  if (t.dim() != 1 || t.shape[0] < 1) a.rangeError(fmt("%s must be 1-D with at least one element, got %s", name, t.describe().c_str()));
}

static Napi::Value softmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxCrossEntropy", 6, 6);
  Tensor& logits = a.tensor(0, "logits");
  Tensor& labels = a.tensor(1, "labels");
  Tensor* d = a.tensorOrNull(2, "dlogits");
  Tensor& acc = a.tensor(3, "lossAcc");
  double ls = a.number(4, "labelSmoothing");
  bool accumulate = a.boolean(5, "accumulate");
  if (!(ls >= 0.0 && ls <= 1.0)) a.rangeError(fmt("labelSmoothing must be in [0, 1], got %g", ls));
  logitsArg(a, logits, "logits");
  intVector(a, logits, labels, "labels");
  if (d) {
    a.dtype(*d, "dlogits", DType::f32);
    a.plain(*d, "dlogits");
    a.sameDevice({&logits, d});
    a.shapeIs(*d, "dlogits", logits.shape);
  }
  scalarOut(a, logits, acc, "lossAcc", DType::f32);
  backendFor(logits.device).softmaxCrossEntropy(logits, labels, d, acc, (float)ls, accumulate);
  acc.touch();
  if (d) d->touch();
  return info.Env().Undefined();
}

static Napi::Value argmax(const Napi::CallbackInfo& info) {
  Args a(info, "argmax", 2, 2);
  Tensor& logits = a.tensor(0, "logits");
  Tensor& out = a.tensor(1, "out");
  logitsArg(a, logits, "logits");
  intVector(a, logits, out, "out");
  backendFor(logits.device).argmax(logits, out);
  out.touch();
  return info.Env().Undefined();
}

static Napi::Value countCorrect(const Napi::CallbackInfo& info) {
  Args a(info, "countCorrect", 4, 4);
  Tensor& logits = a.tensor(0, "logits");
  Tensor& labels = a.tensor(1, "labels");
  Tensor& correct = a.tensor(2, "correct");
  bool accumulate = a.boolean(3, "accumulate");
  logitsArg(a, logits, "logits");
  intVector(a, logits, labels, "labels");
  scalarOut(a, logits, correct, "correct", DType::i32);
  backendFor(logits.device).countCorrect(logits, labels, correct, accumulate);
  correct.touch();
  return info.Env().Undefined();
}

static Napi::Value sumSquares(const Napi::CallbackInfo& info) {
  Args a(info, "sumSquares", 3, 3);
  Tensor& x = a.tensor(0, "x");
  Tensor& out = a.tensor(1, "out");
  bool accumulate = a.boolean(2, "accumulate");
  a.dtype(x, "x", DType::f32);
  scalarOut(a, x, out, "out", DType::f32);
  a.noAlias(x, "x", out, "out");
  if (x.numel()) backendFor(x.device).sumSquares(x, out, accumulate);
  else if (!accumulate) backendFor(x.device).fill(out, 0.0f);
  out.touch();
  return info.Env().Undefined();
}

static Napi::Value softmax(const Napi::CallbackInfo& info) {
  Args a(info, "softmax", 2, 2);
  Tensor& logits = a.tensor(0, "logits");
  Tensor& probs = a.tensor(1, "probs");
  logitsArg(a, logits, "logits");
  a.dtype(probs, "probs", DType::f32);
  a.plain(probs, "probs");
  a.sameDevice({&logits, &probs});
  a.shapeIs(probs, "probs", logits.shape);
  backendFor(logits.device).softmax(logits, probs);
  probs.touch();
  return info.Env().Undefined();
}

void registerLoss(Napi::Env env, Napi::Object exports) {
  VGG_EXPORT(exports, "softmaxCrossEntropy", softmaxCrossEntropy);
  VGG_EXPORT(exports, "argmax", argmax);
  VGG_EXPORT(exports, "countCorrect", countCorrect);
  VGG_EXPORT(exports, "sumSquares", sumSquares);
  VGG_EXPORT(exports, "softmax", softmax);
}

}  // namespace vgg

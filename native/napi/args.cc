#include "napi/args.h"
#include "core/capture.h"
#include <cmath>
#include <cstring>
#include <new>

namespace vgg {

const char* jsTypeName(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return "boolean";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsBigInt()) return "bigint";
  if (v.IsSymbol()) return "symbol";
  if (v.IsFunction()) return "function";
  if (v.IsArray()) return "array";
  if (v.IsTypedArray()) return "typed array";
  if (v.IsObject()) return unwrapTensor(v) ? "Tensor" : "object";
  return "value";
}

Args::Args(const Napi::CallbackInfo& info, const char* op, size_t minCount, size_t maxCount) : info_(info), op_(op) {
  if (info.Length() < minCount || info.Length() > maxCount) {
    if (minCount == maxCount) typeError(fmt("expected %zu arguments, got %zu", minCount, info.Length()));
    typeError(fmt("expected %zu to %zu arguments, got %zu", minCount, maxCount, info.Length()));
  }
}

void Args::typeError(const std::string& msg) const { throw TypeErr(std::string(op_) + ": " + msg); }
void Args::rangeError(const std::string& msg) const { throw RangeErr(std::string(op_) + ": " + msg); }

Tensor& Args::tensor(size_t i, const char* name) {
  Tensor* t = unwrapTensor(at(i));
  if (!t) typeError(fmt("%s (argument %zu) must be a Tensor, got %s", name, i + 1, jsTypeName(at(i))));
  if (!t->storage) typeError(fmt("%s (argument %zu) was disposed", name, i + 1));
  noteUsed(t->storage);  // a running graph capture keeps it alive (core/capture.h)
  return *t;
}

Tensor* Args::tensorOrNull(size_t i, const char* name) {
  if (i >= count() || at(i).IsNull() || at(i).IsUndefined()) return nullptr;
  return &tensor(i, name);
}

std::vector<Tensor*> Args::tensorList(size_t i, const char* name) {
  if (!at(i).IsArray()) typeError(fmt("%s (argument %zu) must be an array of Tensors, got %s", name, i + 1, jsTypeName(at(i))));
  Napi::Array arr = at(i).As<Napi::Array>();
  if (arr.Length() == 0) rangeError(fmt("%s (argument %zu) must hold at least one Tensor, got an empty array", name, i + 1));
  std::vector<Tensor*> out;
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr.Get(k);
    Tensor* t = unwrapTensor(v);
    if (!t) typeError(fmt("%s[%u] must be a Tensor, got %s", name, k, jsTypeName(v)));
    if (!t->storage) typeError(fmt("%s[%u] was disposed", name, k));
    noteUsed(t->storage);
    out.push_back(t);
  }
  return out;
}

std::vector<Tensor*> Args::tensorListOrNull(size_t i, const char* name) {
  if (i >= count() || at(i).IsNull() || at(i).IsUndefined()) return {};
  return tensorList(i, name);
}

double Args::number(size_t i, const char* name) {
  if (!at(i).IsNumber()) typeError(fmt("%s (argument %zu) must be a number, got %s", name, i + 1, jsTypeName(at(i))));
  double v = at(i).As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v)) rangeError(fmt("%s must be finite, got %g", name, v));
  return v;
}

int64_t Args::integer(size_t i, const char* name, int64_t lo, int64_t hi) {
  double v = number(i, name);
  if (v != std::floor(v)) rangeError(fmt("%s must be an integer, got %g", name, v));
  if (v < (double)lo || v > (double)hi) rangeError(fmt("%s must be in [%lld, %lld], got %g", name, (long long)lo, (long long)hi, v));
  return (int64_t)v;
}

bool Args::boolean(size_t i, const char* name) {
  if (!at(i).IsBoolean()) typeError(fmt("%s (argument %zu) must be a boolean, got %s", name, i + 1, jsTypeName(at(i))));
  return at(i).As<Napi::Boolean>().Value();
}

std::string Args::string(size_t i, const char* name) {
  if (!at(i).IsString()) typeError(fmt("%s (argument %zu) must be a string, got %s", name, i + 1, jsTypeName(at(i))));
  return at(i).As<Napi::String>().Utf8Value();
}

Napi::Object Args::object(size_t i, const char* name) {
  if (!at(i).IsObject() || at(i).IsArray()) typeError(fmt("%s (argument %zu) must be an options object, got %s", name, i + 1, jsTypeName(at(i))));
  return at(i).As<Napi::Object>();
}

static const int64_t kMaxElements = (int64_t)1 << 40;

std::vector<int64_t> Args::shape(size_t i, const char* name) {
  if (!at(i).IsArray()) typeError(fmt("%s (argument %zu) must be an array of dimensions, got %s", name, i + 1, jsTypeName(at(i))));
  Napi::Array a = at(i).As<Napi::Array>();
  if (a.Length() > 8) rangeError(fmt("%s has %u dimensions; at most 8 are supported", name, a.Length()));
  std::vector<int64_t> s;
  int64_t total = 1;
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value v = a.Get(k);
    if (!v.IsNumber()) typeError(fmt("%s[%u] must be a number, got %s", name, k, jsTypeName(v)));
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 0) || !std::isfinite(d) || d != std::floor(d)) rangeError(fmt("%s[%u] must be a non-negative integer, got %g", name, k, d));
    if (d > 1e12) rangeError(fmt("%s[%u] = %.0f is larger than the 1e12 a dimension may be", name, k, d));
    s.push_back((int64_t)d);
    total *= std::max<int64_t>((int64_t)d, 1);
    if (total > kMaxElements) rangeError(fmt("%s has more than 2^40 elements", name));
  }
  return s;
}

double Args::field(const Napi::Object& o, const char* key, double lo, double hi) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) typeError(fmt("option %s must be a number, got %s", key, jsTypeName(v)));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) rangeError(fmt("option %s must be finite, got %g", key, d));
  if (d < lo || d > hi) rangeError(fmt("option %s must be in [%g, %g], got %g", key, lo, hi, d));
  return d;
}

int64_t Args::intField(const Napi::Object& o, const char* key, int64_t lo, int64_t hi) {
  double d = field(o, key, (double)lo, (double)hi);
  if (d != std::floor(d)) rangeError(fmt("option %s must be an integer, got %g", key, d));
  return (int64_t)d;
}

bool Args::boolField(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) typeError(fmt("option %s must be a boolean, got %s", key, jsTypeName(v)));
  return v.As<Napi::Boolean>().Value();
}

std::string Args::stringField(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) typeError(fmt("option %s must be a string, got %s", key, jsTypeName(v)));
  return v.As<Napi::String>().Utf8Value();
}

std::vector<float> Args::numberArrayField(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) typeError(fmt("option %s must be an array of numbers, got %s", key, jsTypeName(v)));
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > 4096) rangeError(fmt("option %s has %u entries; at most 4096", key, a.Length()));
  std::vector<float> out;
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value e = a.Get(k);
    if (!e.IsNumber()) typeError(fmt("option %s[%u] must be a number, got %s", key, k, jsTypeName(e)));
    double d = e.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d)) rangeError(fmt("option %s[%u] must be finite, got %g", key, k, d));
    out.push_back((float)d);
  }
  return out;
}

void Args::dtype(const Tensor& t, const char* name, DType want) {
  if (t.dtype != want) typeError(fmt("%s must be %s, got %s", name, dtypeName(want), t.describe().c_str()));
}

void Args::floating(const Tensor& t, const char* name) {
  if (t.dtype != DType::f32 && t.dtype != DType::bf16) typeError(fmt("%s must be float32 or bfloat16, got %s", name, t.describe().c_str()));
}

void Args::sameDType(const Tensor& a, const char* an, const Tensor& b, const char* bn) {
  if (a.dtype != b.dtype)
    typeError(fmt("%s must have the dtype of %s (%s), got %s", bn, an, a.describe().c_str(), b.describe().c_str()));
}

void Args::gradDType(const Tensor& g, const char* gn, const Tensor& act, const char* an) {
  if (g.dtype != DType::f32 && g.dtype != act.dtype)
    typeError(fmt("%s must be float32 or the dtype of %s (%s), got %s", gn, an, dtypeName(act.dtype), g.describe().c_str()));
}

void Args::dims(const Tensor& t, const char* name, int want) {
  if (t.dim() != want) rangeError(fmt("%s must have %d dimensions, got %s", name, want, t.describe().c_str()));
}

void Args::shapeIs(const Tensor& t, const char* name, const std::vector<int64_t>& want) {
  if (t.shape != want)
    rangeError(fmt("%s must have shape %s, got %s", name, shapeString(want).c_str(), t.describe().c_str()));
}

void Args::plain(const Tensor& t, const char* name) {
  if (t.layout != Layout::plain) rangeError(fmt("%s must be in plain layout, got %s", name, t.describe().c_str()));
}

void Args::sameDevice(std::initializer_list<const Tensor*> ts) {
  const Tensor* first = nullptr;
  for (const Tensor* t : ts) {
    if (!t) continue;
    if (!first) first = t;
    else if (t->device != first->device)
      rangeError(fmt("tensors are on different devices (%s and %s)", first->describe().c_str(), t->describe().c_str()));
  }
}

void Args::sameLayout(const Tensor& a, const char* an, const Tensor& b, const char* bn) {
  if (a.layout != b.layout)
    rangeError(fmt("%s and %s must share a layout, got %s and %s", an, bn, a.describe().c_str(), b.describe().c_str()));
}

void Args::sameShape(const Tensor& a, const char* an, const Tensor& b, const char* bn) {
  if (a.shape != b.shape)
    rangeError(fmt("%s and %s must have the same shape, got %s and %s", an, bn, a.describe().c_str(), b.describe().c_str()));
}

void Args::noAlias(const Tensor& a, const char* an, const Tensor& b, const char* bn) {
  if (a.storage == b.storage) rangeError(fmt("%s and %s must not share storage", an, bn));
}

const Tensor* seedTensorArg(Args& a, size_t i, const Tensor& ref) {
  const Tensor* s = a.tensorOrNull(i, "seedTensor");
  if (!s) return nullptr;
  a.dtype(*s, "seedTensor", DType::i32);
  a.shapeIs(*s, "seedTensor", {1});
  a.plain(*s, "seedTensor");
  if (s->device != ref.device)
    a.rangeError(fmt("seedTensor is on %s but the op's tensors are on %s", deviceName(s->device), deviceName(ref.device)));
  return s;
}

Napi::Value guard(const Napi::CallbackInfo& info, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
  Napi::Env env = info.Env();
  try {
    return fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const TypeErr& e) {
    throw Napi::TypeError::New(env, e.what());
  } catch (const RangeErr& e) {
    throw Napi::RangeError::New(env, e.what());
  } catch (const BackendErr& e) {
    Napi::Error err = Napi::Error::New(env, e.what());
    err.Set("op", Napi::String::New(env, e.op));
    err.Set("call", Napi::String::New(env, e.call));
    throw err;
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "out of memory while running a vgg-cifar op");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

}  // namespace vgg

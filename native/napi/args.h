// Argument checking and conversion for the N-API layer. Every helper throws vgg::TypeErr or
// vgg::RangeErr with a message that starts with the op's name; guard() turns them into JS errors.
#pragma once
#include <napi.h>
#include <initializer_list>
#include <string>
#include <vector>
#include "core/errors.h"
#include "core/tensor.h"

namespace vgg {

struct TensorWrap;

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op, size_t minCount, size_t maxCount);
  const char* op() const { return op_; }
  Napi::Env env() const { return info_.Env(); }
  size_t count() const { return info_.Length(); }

  // A live tensor (not disposed). `name` is used in messages.
  Tensor& tensor(size_t i, const char* name);
  // null/undefined -> nullptr
  Tensor* tensorOrNull(size_t i, const char* name);
  // A non-empty array of live tensors (`name[k]` in messages); the OrNull form gives {} for null/undefined.
  std::vector<Tensor*> tensorList(size_t i, const char* name);
  std::vector<Tensor*> tensorListOrNull(size_t i, const char* name);
  double number(size_t i, const char* name);  // finite
  int64_t integer(size_t i, const char* name, int64_t lo, int64_t hi);
  bool boolean(size_t i, const char* name);
  std::string string(size_t i, const char* name);
  Napi::Object object(size_t i, const char* name);
  std::vector<int64_t> shape(size_t i, const char* name);

  // fields of an options object
  double field(const Napi::Object& o, const char* key, double lo, double hi);
  int64_t intField(const Napi::Object& o, const char* key, int64_t lo, int64_t hi);
  bool boolField(const Napi::Object& o, const char* key);
  std::string stringField(const Napi::Object& o, const char* key);
  std::vector<float> numberArrayField(const Napi::Object& o, const char* key);

  // checks on tensors
  void dtype(const Tensor& t, const char* name, DType want);
  // An activation dtype: float32 or bfloat16 (bf16 mixed precision).
  void floating(const Tensor& t, const char* name);
  // b has a's dtype.
  void sameDType(const Tensor& a, const char* an, const Tensor& b, const char* bn);
  // A weight gradient: float32 (fp32 master gradients) or the activations' dtype.
  void gradDType(const Tensor& g, const char* gn, const Tensor& act, const char* an);
  void dims(const Tensor& t, const char* name, int want);
  void shapeIs(const Tensor& t, const char* name, const std::vector<int64_t>& want);
  void plain(const Tensor& t, const char* name);
  void sameDevice(std::initializer_list<const Tensor*> ts);
  void sameLayout(const Tensor& a, const char* an, const Tensor& b, const char* bn);
  void sameShape(const Tensor& a, const char* an, const Tensor& b, const char* bn);
  void noAlias(const Tensor& a, const char* an, const Tensor& b, const char* bn);

  [[noreturn]] void typeError(const std::string& msg) const;
  [[noreturn]] void rangeError(const std::string& msg) const;

 private:
  Napi::Value at(size_t i) const { return info_[i]; }
  const Napi::CallbackInfo& info_;
  const char* op_;
};

const char* jsTypeName(const Napi::Value& v);
// A device name argument ('cpu' or 'cuda').
Device deviceArg(Args& a, size_t i);
// The optional seed tensor of a random op (argument i; null/undefined/absent -> nullptr): int32 [1],
// plain, on `ref`'s device. The op only reads it (and no output can alias it: none is int32).
const Tensor* seedTensorArg(Args& a, size_t i, const Tensor& ref);

// Runs fn, turning C++ exceptions into thrown JS errors (TypeError, RangeError, Error with op/call).
Napi::Value guard(const Napi::CallbackInfo& info, Napi::Value (*fn)(const Napi::CallbackInfo&));

template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) { return guard(info, Fn); }

#define VGG_EXPORT(exports, name, fn) \
  (exports).Set(name, Napi::Function::New((exports).Env(), ::vgg::Guarded<fn>, name))

// Each op family registers its functions here (native/napi/<family>.cc).
void registerTensorClass(Napi::Env env, Napi::Object exports);
void registerTensors(Napi::Env env, Napi::Object exports);
void registerConv(Napi::Env env, Napi::Object exports);
void registerPool(Napi::Env env, Napi::Object exports);
void registerLinear(Napi::Env env, Napi::Object exports);
void registerElementwise(Napi::Env env, Napi::Object exports);
void registerBatchNorm(Napi::Env env, Napi::Object exports);
void registerLoss(Napi::Env env, Napi::Object exports);
void registerOptim(Napi::Env env, Napi::Object exports);
void registerData(Napi::Env env, Napi::Object exports);
void registerTiming(Napi::Env env, Napi::Object exports);
void registerGraph(Napi::Env env, Napi::Object exports);

// Tensor objects
Napi::Object wrapTensor(Napi::Env env, Tensor t);
Tensor* unwrapTensor(const Napi::Value& v);
// The Graph class of this environment (set by registerGraph).
Napi::FunctionReference& graphConstructor(Napi::Env env);  // nullptr when v is not a Tensor; throws if disposed? no

}  // namespace vgg

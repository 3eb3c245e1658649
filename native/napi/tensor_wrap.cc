// The JS Tensor class: holds a vgg::Tensor (a shared reference to storage). dispose() drops this
// object's reference; the finalizer does the same if the caller forgot.
#include <napi.h>
#include "core/backend.h"
#include "napi/args.h"

namespace vgg {

struct TensorWrap : Napi::ObjectWrap<TensorWrap> {
  Tensor t;
  int64_t reported = 0;  // bytes reported to V8 as external memory

  explicit TensorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorWrap>(info) {
    if (info.Length() != 1 || !info[0].IsExternal())
      throw Napi::TypeError::New(info.Env(), "Tensor: tensors are made by empty(), fromArray() or reshape(), not new Tensor()");
    t = *info[0].As<Napi::External<Tensor>>().Data();
    reported = (int64_t)t.bytes();
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), reported);
  }
  ~TensorWrap() override = default;
  void Finalize(Napi::Env env) override { release(env); }

  void release(Napi::Env env) {
    if (reported) Napi::MemoryManagement::AdjustExternalMemory(env, -reported);
    reported = 0;
    t.storage.reset();
  }

  Napi::Value Shape(const Napi::CallbackInfo& info) {
    Napi::Array a = Napi::Array::New(info.Env(), t.shape.size());
    for (size_t i = 0; i < t.shape.size(); i++) a.Set((uint32_t)i, Napi::Number::New(info.Env(), (double)t.shape[i]));
    a.Freeze();
    return a;
  }
  Napi::Value DType_(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), dtypeName(t.dtype)); }
  Napi::Value Device_(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), deviceName(t.device)); }
  Napi::Value Layout_(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), layoutName(t.layout)); }
  Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), (double)t.numel()); }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !t.storage); }
  Napi::Value Version(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), t.storage ? (double)t.storage->version : -1.0);
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    release(info.Env());
    return info.Env().Undefined();
  }
  Napi::Value Reshape(const Napi::CallbackInfo& info);
  Napi::Value ToString(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), t.storage ? "Tensor " + t.describe() : "Tensor (disposed)");
  }
};

// The per-environment classes (the main thread and each worker load the addon on their own).
struct TensorClass {
  Napi::FunctionReference ctor;
  Napi::FunctionReference graph;  // napi/graph.cc
};

static TensorClass* tensorClass(Napi::Env env) { return env.GetInstanceData<TensorClass>(); }

Napi::Object wrapTensor(Napi::Env env, Tensor t) {
  Napi::External<Tensor> ext = Napi::External<Tensor>::New(env, &t);
  return tensorClass(env)->ctor.New({ext});
}

Napi::FunctionReference& graphConstructor(Napi::Env env) { return tensorClass(env)->graph; }

Tensor* unwrapTensor(const Napi::Value& v) {
  if (!v.IsObject()) return nullptr;
  Napi::Object o = v.As<Napi::Object>();
  TensorClass* cls = tensorClass(v.Env());
  if (!cls || !o.InstanceOf(cls->ctor.Value())) return nullptr;
  return &TensorWrap::Unwrap(o)->t;
}

static Napi::Value reshapeImpl(const Napi::CallbackInfo& info) {
  Tensor& self = TensorWrap::Unwrap(info.This().As<Napi::Object>())->t;
  Args a(info, "reshape", 1, 1);
  if (!self.storage) a.typeError("tensor was disposed");
  if (!info[0].IsArray()) a.typeError(fmt("shape must be an array, got %s", jsTypeName(info[0])));
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<int64_t> shape;
  int inferred = -1;
  int64_t known = 1;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsNumber()) a.typeError(fmt("shape[%u] must be a number, got %s", i, jsTypeName(v)));
    double d = v.As<Napi::Number>().DoubleValue();
    if (d == -1 && inferred < 0) { inferred = (int)i; shape.push_back(1); continue; }
    if (!(d >= 0) || d != (double)(int64_t)d || d > 1e12) a.rangeError(fmt("shape[%u] must be a non-negative integer or one -1, got %g", i, d));
    shape.push_back((int64_t)d);
    known *= (int64_t)d;
  }
  if (arr.Length() > 8) a.rangeError("at most 8 dimensions are supported");
  if (inferred >= 0) {
    if (known == 0 || self.numel() % known != 0)
      a.rangeError(fmt("cannot infer -1 reshaping %s to %s", self.describe().c_str(), shapeString(shape).c_str()));
    shape[inferred] = self.numel() / known;
  }
  Tensor out = self;
  out.shape = shape;
  if (out.numel() != self.numel())
    a.rangeError(fmt("cannot reshape %s (%lld elements) to %s (%lld elements)", self.describe().c_str(), (long long)self.numel(),
                     shapeString(shape).c_str(), (long long)out.numel()));
  if (self.layout != Layout::plain) {
    // A blocked NCHW tensor with 1x1 spatial size and C % 8 == 0 is byte-identical to plain.
    bool flatSpatial = self.dim() == 4 && self.shape[2] == 1 && self.shape[3] == 1 && self.shape[1] % layoutBlock(self.layout) == 0;
    if (!flatSpatial) a.rangeError(fmt("cannot view %s with a new shape: copy() it to a plain tensor first", self.describe().c_str()));
    out.layout = Layout::plain;
  }
  return wrapTensor(info.Env(), out);
}

Napi::Value TensorWrap::Reshape(const Napi::CallbackInfo& info) { return guard(info, reshapeImpl); }

void registerTensorClass(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = TensorWrap::DefineClass(env, "Tensor", {
    TensorWrap::InstanceAccessor<&TensorWrap::Shape>("shape"),
    TensorWrap::InstanceAccessor<&TensorWrap::DType_>("dtype"),
    TensorWrap::InstanceAccessor<&TensorWrap::Device_>("device"),
    TensorWrap::InstanceAccessor<&TensorWrap::Layout_>("layout"),
    TensorWrap::InstanceAccessor<&TensorWrap::Size>("size"),
    TensorWrap::InstanceAccessor<&TensorWrap::Disposed>("disposed"),
    TensorWrap::InstanceAccessor<&TensorWrap::Version>("version"),
    TensorWrap::InstanceMethod<&TensorWrap::Dispose>("dispose"),
    TensorWrap::InstanceMethod<&TensorWrap::Reshape>("reshape"),
    TensorWrap::InstanceMethod<&TensorWrap::ToString>("toString"),
  });
  TensorClass* data = new TensorClass();
  data->ctor = Napi::Persistent(cls);
  env.SetInstanceData<TensorClass>(data);
  exports.Set("Tensor", cls);
}

}  // namespace vgg

// Tensor creation, transfer and the process-level functions (backends, threads).
#include <cmath>
#include <cstring>
#include "core/backend.h"
#include "napi/args.h"

namespace vgg {

Device deviceArg(Args& a, size_t i) {
  std::string s = a.string(i, "device");
  Device d;
  if (!parseDevice(s, &d)) a.rangeError(fmt("device must be 'cpu' or 'cuda', got '%s'", s.c_str()));
  return d;
}

static DType dtypeArg(Args& a, size_t i) {
  std::string s = a.string(i, "dtype");
  DType t;
  if (!parseDType(s, &t)) a.rangeError(fmt("dtype must be float32, uint8, int32, bfloat16 or float16, got '%s'", s.c_str()));
  return t;
}

static void checkLayout(Args& a, Layout l, Device d, DType t, const std::vector<int64_t>& shape) {
  if (l == Layout::plain) return;
  if (shape.size() != 4) a.rangeError(fmt("layout %s needs a 4-D NCHW shape, got %s", layoutName(l), shapeString(shape).c_str()));
  if (layoutBlock(l) > 1 && (d != Device::cpu || t != DType::f32))
    a.rangeError(fmt("layout %s is for float32 tensors on the cpu backend", layoutName(l)));
}

static Layout optionalLayout(Args& a, size_t i, Device d, DType t, const std::vector<int64_t>& shape) {
  if (i >= a.count()) return Layout::plain;
  std::string s = a.string(i, "layout");
  Layout l;
  if (!parseLayout(s, &l)) a.rangeError(fmt("layout must be 'plain', 'nChw8c', 'nChw16c' or 'nhwc', got '%s'", s.c_str()));
  checkLayout(a, l, d, t, shape);
  return l;
}

static Tensor allocate(Args& a, Device d, const std::vector<int64_t>& shape, DType t, Layout l) {
  Backend* found = nullptr;
  try {
    found = &backendFor(d);  // throws when the backend is not compiled in or cannot run
  } catch (const RangeErr& e) {
    a.rangeError(e.what());
  }
  Backend& be = *found;
  Tensor x;
  x.shape = shape;
  x.dtype = t;
  x.device = d;
  x.layout = l;
  auto st = std::make_shared<Storage>();
  st->bytes = std::max<size_t>(x.bytes(), 1);
  try {
    st->ptr = be.allocate(st->bytes);
  } catch (const RangeErr& e) {
    a.rangeError(fmt("%s for %s %s", e.what(), dtypeName(t), shapeString(shape).c_str()));
  }
  st->backend = &be;
  x.storage = st;
  return x;
}

static Napi::Value empty(const Napi::CallbackInfo& info) {
  Args a(info, "empty", 3, 4);
  Device d = deviceArg(a, 0);
  std::vector<int64_t> shape = a.shape(1, "shape");
  DType t = dtypeArg(a, 2);
  Layout l = optionalLayout(a, 3, d, t, shape);
  return wrapTensor(info.Env(), allocate(a, d, shape, t, l));
}

// The dtype a typed array holds; Uint16Array carries bfloat16/float16 bits.
static bool typedArrayDType(const Napi::TypedArray& arr, DType* t) {
  switch (arr.TypedArrayType()) {
    case napi_float32_array: *t = DType::f32; return true;
    case napi_uint8_array: *t = DType::u8; return true;
    case napi_int32_array: *t = DType::i32; return true;
    case napi_uint16_array: *t = DType::bf16; return true;
    default: return false;
  }
}

static Napi::TypedArray hostArray(Args& a, size_t i, DType want, int64_t numel) {
  Napi::Value v = a.count() > i ? Napi::Value(a.object(i, "data")) : a.env().Undefined();
  if (!v.IsTypedArray()) a.typeError(fmt("data must be a Float32Array, Uint8Array, Int32Array or Uint16Array, got %s", jsTypeName(v)));
  Napi::TypedArray arr = v.As<Napi::TypedArray>();
  DType have;
  if (!typedArrayDType(arr, &have)) a.typeError("data must be a Float32Array, Uint8Array, Int32Array or Uint16Array");
  bool ok = have == want || (have == DType::bf16 && want == DType::f16);
  if (!ok) a.typeError(fmt("data is a typed array of %s but the tensor is %s", dtypeName(have), dtypeName(want)));
  if ((int64_t)arr.ElementLength() != numel)
    a.rangeError(fmt("data has %zu elements but the shape needs %lld", arr.ElementLength(), (long long)numel));
  return arr;
}

static const void* arrayBytes(const Napi::TypedArray& arr) {
  return static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
}

static Napi::Value fromArray(const Napi::CallbackInfo& info) {
  Args a(info, "fromArray", 3, 5);
  Device d = deviceArg(a, 0);
  std::vector<int64_t> shape = a.shape(1, "shape");
  DType t;
  if (a.count() >= 4 && !info[3].IsUndefined()) t = dtypeArg(a, 3);
  else {
    if (!info[2].IsTypedArray() || !typedArrayDType(info[2].As<Napi::TypedArray>(), &t))
      a.typeError(fmt("data must be a Float32Array, Uint8Array, Int32Array or Uint16Array, got %s", jsTypeName(info[2])));
  }
  Layout l = optionalLayout(a, 4, d, t, shape);
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  Napi::TypedArray arr = hostArray(a, 2, t, n);
  Tensor x = allocate(a, d, shape, t, l);
  backendFor(d).upload(x, arrayBytes(arr));
  return wrapTensor(info.Env(), x);
}

static Napi::Value toArray(const Napi::CallbackInfo& info) {
  Args a(info, "toArray", 1, 1);
  Tensor& t = a.tensor(0, "tensor");
  Napi::Env env = info.Env();
  size_t n = (size_t)t.numel();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, std::max<size_t>(n * dtypeSize(t.dtype), 1));
  if (n) backendFor(t.device).download(t, buf.Data());
  switch (t.dtype) {
    case DType::f32: return Napi::Float32Array::New(env, n, buf, 0);
    case DType::u8: return Napi::Uint8Array::New(env, n, buf, 0);
    case DType::i32: return Napi::Int32Array::New(env, n, buf, 0);
    default: return Napi::Uint16Array::New(env, n, buf, 0);
  }
}

static Napi::Value write(const Napi::CallbackInfo& info) {
  Args a(info, "write", 2, 2);
  Tensor& t = a.tensor(0, "dst");
  Napi::TypedArray arr = hostArray(a, 1, t.dtype, t.numel());
  if (t.numel()) backendFor(t.device).upload(t, arrayBytes(arr));
  t.touch();
  return info.Env().Undefined();
}

static Napi::Value copy(const Napi::CallbackInfo& info) {
  Args a(info, "copy", 2, 2);
  Tensor& src = a.tensor(0, "src");
  Tensor& dst = a.tensor(1, "dst");
  a.sameDevice({&src, &dst});
  a.sameShape(src, "src", dst, "dst");
  if (src.dtype != dst.dtype) a.typeError(fmt("src and dst must share a dtype, got %s and %s", src.describe().c_str(), dst.describe().c_str()));
  if (src.storage == dst.storage) {
    if (src.layout != dst.layout) a.rangeError("src and dst share storage but differ in layout");
    return info.Env().Undefined();
  }
  if (src.numel()) backendFor(src.device).copy(src, dst);
  dst.touch();
  return info.Env().Undefined();
}

static Napi::Value fill(const Napi::CallbackInfo& info) {
  Args a(info, "fill", 2, 2);
  Tensor& t = a.tensor(0, "tensor");
  if (!info[1].IsNumber()) a.typeError(fmt("value must be a number, got %s", jsTypeName(info[1])));
  double v = info[1].As<Napi::Number>().DoubleValue();  // NaN/Inf allowed: tests fill with them
  if (t.dtype != DType::f32 && !std::isfinite(v)) a.rangeError(fmt("cannot fill a %s tensor with %g", dtypeName(t.dtype), v));
  if (t.numel()) backendFor(t.device).fill(t, (float)v);
  t.touch();
  return info.Env().Undefined();
}

static Napi::Value preferredLayout(const Napi::CallbackInfo& info) {
  Args a(info, "preferredLayout", 2, 3);
  Device d = deviceArg(a, 0);
  std::vector<int64_t> shape = a.shape(1, "shape");
  DType dtype = a.count() > 2 && !info[2].IsUndefined() ? dtypeArg(a, 2) : DType::f32;
  return Napi::String::New(info.Env(), layoutName(backendFor(d).preferredLayout(shape, dtype)));
}

static Napi::Value liveBytes(const Napi::CallbackInfo& info) {
  Args a(info, "liveBytes", 1, 1);
  Device d = deviceArg(a, 0);
  return Napi::Number::New(info.Env(), (double)backendFor(d).liveBytes());
}

static Napi::Object statusObject(Napi::Env env, Device d, const BackendStatus& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("device", deviceName(d));
  o.Set("available", s.available);
  o.Set("compiled", s.compiled);
  o.Set("description", s.description);
  if (!s.reason.empty()) o.Set("reason", s.reason);
  Napi::Object det = Napi::Object::New(env);
  for (auto& kv : s.details) det.Set(kv.first, kv.second);
  o.Set("details", det);
  return o;
}

static Napi::Value backends(const Napi::CallbackInfo& info) {
  Args a(info, "backends", 0, 0);
  Napi::Array arr = Napi::Array::New(info.Env());
  arr.Set(0u, statusObject(info.Env(), Device::cpu, cpuBackend().status()));
  Backend* cuda = cudaBackend();
  BackendStatus cs;
  if (cuda) cs = cuda->status();
  else {
    cs.compiled = false;
    cs.available = false;
    cs.description = "CUDA backend (not compiled)";
    cs.reason = std::string("not compiled into this addon: ") + VGG_CUDA_REASON;
  }
  arr.Set(1u, statusObject(info.Env(), Device::cuda, cs));
  return arr;
}

void setCpuThreads(int n);
int getCpuThreads();

static Napi::Value setThreads(const Napi::CallbackInfo& info) {
  Args a(info, "setThreads", 1, 1);
  setCpuThreads((int)a.integer(0, "n", 1, 1024));
  return info.Env().Undefined();
}

static Napi::Value getThreads(const Napi::CallbackInfo& info) {
  Args a(info, "getThreads", 0, 0);
  return Napi::Number::New(info.Env(), getCpuThreads());
}

static Napi::Value setTf32(const Napi::CallbackInfo& info) {
  Args a(info, "setTf32", 1, 1);
  bool on = a.boolean(0, "enabled");
  cpuBackend().setTf32(on);
  if (Backend* cuda = cudaBackend()) cuda->setTf32(on);
  return info.Env().Undefined();
}

void registerTensors(Napi::Env env, Napi::Object exports) {
  VGG_EXPORT(exports, "empty", empty);
  VGG_EXPORT(exports, "fromArray", fromArray);
  VGG_EXPORT(exports, "toArray", toArray);
  VGG_EXPORT(exports, "write", write);
  VGG_EXPORT(exports, "copy", copy);
  VGG_EXPORT(exports, "fill", fill);
  VGG_EXPORT(exports, "preferredLayout", preferredLayout);
  VGG_EXPORT(exports, "liveBytes", liveBytes);
  VGG_EXPORT(exports, "backends", backends);
  VGG_EXPORT(exports, "setThreads", setThreads);
  VGG_EXPORT(exports, "getThreads", getThreads);
  VGG_EXPORT(exports, "setTf32", setTf32);
}

}  // namespace vgg

#include "core/tensor.h"
#include "core/backend.h"
#include "core/capture.h"

namespace vgg {

size_t dtypeSize(DType t) {
  switch (t) {
    case DType::f32: case DType::i32: return 4;
    case DType::u8: return 1;
    case DType::bf16: case DType::f16: return 2;
  }
  return 0;
}
const char* dtypeName(DType t) {
  switch (t) {
    case DType::f32: return "float32";
    case DType::u8: return "uint8";
    case DType::i32: return "int32";
    case DType::bf16: return "bfloat16";
    case DType::f16: return "float16";
  }
  return "?";
}
const char* deviceName(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }
const char* layoutName(Layout l) {
  switch (l) {
    case Layout::plain: return "plain";
    case Layout::nChw8c: return "nChw8c";
    case Layout::nChw16c: return "nChw16c";
    case Layout::nhwc: return "nhwc";
  }
  return "?";
}
bool parseDType(const std::string& s, DType* out) {
  for (DType t : {DType::f32, DType::u8, DType::i32, DType::bf16, DType::f16})
    if (s == dtypeName(t)) { *out = t; return true; }
  return false;
}
bool parseDevice(const std::string& s, Device* out) {
  if (s == "cpu") { *out = Device::cpu; return true; }
  if (s == "cuda") { *out = Device::cuda; return true; }
  return false;
}
bool parseLayout(const std::string& s, Layout* out) {
  for (Layout l : {Layout::plain, Layout::nChw8c, Layout::nChw16c, Layout::nhwc})
    if (s == layoutName(l)) { *out = l; return true; }
  return false;
}

Storage::~Storage() {
  if (backend && ptr) backend->release(ptr, bytes);
}

void Tensor::touch() const {
  if (!storage) return;
  storage->version++;
  noteWritten(storage);
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}
size_t Tensor::bytes() const { return (size_t)physicalNumel(shape, layout) * dtypeSize(dtype); }

int layoutBlock(Layout l) { return l == Layout::nChw8c ? 8 : l == Layout::nChw16c ? 16 : 1; }

int64_t physicalNumel(const std::vector<int64_t>& shape, Layout layout) {
  int64_t n = 1;
  for (size_t i = 0; i < shape.size(); i++) {
    int64_t d = shape[i];
    int blk = layoutBlock(layout);
    if (blk > 1 && i == 1) d = (d + blk - 1) / blk * blk;
    n *= d;
  }
  return n;
}

std::string shapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); i++) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string Tensor::describe() const {
  std::string s = std::string(dtypeName(dtype)) + shapeString(shape);
  if (layout != Layout::plain) s += std::string(" (") + layoutName(layout) + ")";
  if (device != Device::cpu) s += std::string(" on ") + deviceName(device);
  return s;
}

}  // namespace vgg

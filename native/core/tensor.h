// Tensor: a typed, shaped view over device storage owned by a backend.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vgg {

enum class DType : uint8_t { f32, u8, i32, bf16, f16 };
enum class Device : uint8_t { cpu, cuda };
// Storage order. Logical shape is always NCHW / row-major; see binding.d.ts.
enum class Layout : uint8_t { plain, nChw8c, nChw16c, nhwc };
// Channel block of a blocked layout (8 or 16), 1 otherwise.
int layoutBlock(Layout l);

size_t dtypeSize(DType t);
const char* dtypeName(DType t);
const char* deviceName(Device d);
const char* layoutName(Layout l);
bool parseDType(const std::string& s, DType* out);
bool parseDevice(const std::string& s, Device* out);
bool parseLayout(const std::string& s, Layout* out);

class Backend;

// Freed by its backend when the last tensor (or view) referring to it goes away.
struct Storage {
  Backend* backend = nullptr;
  void* ptr = nullptr;
  size_t bytes = 0;
  // Bumped on every write through an op, so caches of derived data (e.g. reordered weights) know
  // when they are stale.
  uint64_t version = 0;
  ~Storage();
};

struct Tensor {
  std::shared_ptr<Storage> storage;
  std::vector<int64_t> shape;
  DType dtype = DType::f32;
  Device device = Device::cpu;
  Layout layout = Layout::plain;

  int64_t numel() const;
  size_t bytes() const;  // physical bytes, padded blocked layouts included
  int dim() const { return (int)shape.size(); }
  void* data() const { return storage ? storage->ptr : nullptr; }
  template <class T> T* as() const { return static_cast<T*>(data()); }
  // Marks a write through an op (bumps the version; recorded by a running graph capture, core/capture.h).
  void touch() const;
  std::string describe() const;  // e.g. "float32[32,64,32,32] (nChw8c)"
};

// Physical element count of a shape in a layout (blocked layouts pad C up to a multiple of 8).
int64_t physicalNumel(const std::vector<int64_t>& shape, Layout layout);
std::string shapeString(const std::vector<int64_t>& shape);

}  // namespace vgg

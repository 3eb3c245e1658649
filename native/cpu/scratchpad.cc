#include "cpu/scratchpad.h"
#include <cstdlib>
#include <string>
#include "cpu/cpu_backend.h"

namespace vgg {

ScratchArena::~ScratchArena() { std::free(buf_); }

dnnl::primitive_attr ScratchArena::userMode(dnnl::primitive_attr a) {
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

dnnl::memory ScratchArena::slot(const dnnl::memory::desc& md) {
  return md.get_size() ? dnnl::memory(md, cpu().engine(), DNNL_MEMORY_NONE) : dnnl::memory();
}

void ScratchArena::bind(dnnl::memory& slot, std::unordered_map<int, dnnl::memory>& args) {
  if (!slot) {
    args.erase(DNNL_ARG_SCRATCHPAD);
    return;
  }
  size_t need = slot.get_desc().get_size();
  if (need > bytes_) {
    size_t rounded = (need + 4095) / 4096 * 4096;
    void* p = std::aligned_alloc(4096, rounded);
    if (!p) throw RangeErr("cannot allocate a " + std::to_string(need) + "-byte oneDNN scratchpad on the cpu");
    std::free(buf_);
    buf_ = p;
    bytes_ = rounded;
  }
  slot.set_data_handle(buf_);
  args[DNNL_ARG_SCRATCHPAD] = slot;
}

}  // namespace vgg

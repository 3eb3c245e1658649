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

void ScratchArena::bind(const dnnl::memory::desc& md, std::unordered_map<int, dnnl::memory>& args) {
  size_t need = md.get_size();
  if (need == 0) {
    args.erase(DNNL_ARG_SCRATCHPAD);
    return;
  }
  if (need > bytes_) {
    size_t rounded = (need + 4095) / 4096 * 4096;
    void* p = std::aligned_alloc(4096, rounded);
    if (!p) throw RangeErr("cannot allocate a " + std::to_string(need) + "-byte oneDNN scratchpad on the cpu");
    std::free(buf_);
    buf_ = p;
    bytes_ = rounded;
  }
  args[DNNL_ARG_SCRATCHPAD] = dnnl::memory(md, cpu().engine(), buf_);
}

}  // namespace vgg

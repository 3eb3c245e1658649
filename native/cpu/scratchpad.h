// oneDNN's default ("library") scratchpad belongs to the thread that created the primitive. Ours are
// cached process-wide and run on whichever thread calls: the training worker, the main thread, a later
// worker (a second train() in one process crashed inside a Winograd kernel whose scratchpad had gone
// with the first worker's thread). So every cached primitive is created with a user scratchpad and is
// handed one at execution from the arena of its op family, used under that family's mutex.
#pragma once
#include <cstddef>
#include <unordered_map>
#include <dnnl.hpp>

namespace vgg {

class ScratchArena {
 public:
  ScratchArena() = default;
  ScratchArena(const ScratchArena&) = delete;
  ScratchArena& operator=(const ScratchArena&) = delete;
  ~ScratchArena();
  // `a` with scratchpad_mode::user: the primitive then takes its scratchpad as DNNL_ARG_SCRATCHPAD.
  static dnnl::primitive_attr userMode(dnnl::primitive_attr a = dnnl::primitive_attr());
  // The scratchpad operand of a primitive whose pd asks for `md`, made once with the primitive (no data
  // yet); an empty memory when the primitive needs none.
  static dnnl::memory slot(const dnnl::memory::desc& md);
  // Points `slot` at the arena (grown when needed, never shrunk) and puts it in args: nothing is
  // allocated per call once the arena is as large as the largest scratchpad.
  void bind(dnnl::memory& slot, std::unordered_map<int, dnnl::memory>& args);

 private:
  void* buf_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace vgg

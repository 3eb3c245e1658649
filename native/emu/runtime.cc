// The CUDA emulator's runtime (README.md here): memory, streams, graph capture, events, kernel launches.
// Device memory is host memory between guard bytes that are checked after every operation, filled with
// 0xFF (NaN as float and bfloat16) so that a read of memory nobody wrote shows. What real CUDA refuses
// during a stream capture (synchronizing, allocating, copying to or from host memory) is refused here
// too, and invalidates the capture, so the backend's capture logic meets the same rules.
#include <cuda_runtime_api.h>
#include <sys/mman.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
#include "../kernel.h"
#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer builds (VGG_CIFAR_SANITIZE=ON): fiber switches are announced to it, and a reused fiber
// stack is unpoisoned, or it reports the frames of the fiber that ran there before.
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define EMU_ASAN_START(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define EMU_ASAN_FINISH(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#define EMU_ASAN_UNPOISON(p, n) __asan_unpoison_memory_region(p, n)
#else
#define EMU_ASAN_START(save, bottom, size) ((void)0)
#define EMU_ASAN_FINISH(save, bottom, size) ((void)0)
#define EMU_ASAN_UNPOISON(p, n) ((void)0)
#endif

thread_local uint3 threadIdx;
thread_local uint3 blockIdx;
thread_local dim3 blockDim;
thread_local dim3 gridDim;

struct CUstream_st {
  bool capturing = false;
  bool invalidated = false;
  std::thread::id captureThread;
  CUgraph_st* graph = nullptr;
};
struct CUgraph_st {
  std::vector<std::function<void()>> ops;
};
struct CUgraphExec_st {
  std::vector<std::function<void()>> ops;
};
struct CUevent_st {
  std::chrono::steady_clock::time_point at;
  bool recorded = false;
};

namespace emu {
namespace {

[[noreturn]] void fatal(const std::string& what) {
  std::fprintf(stderr, "CUDA emulator: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

thread_local cudaError_t lastError = cudaSuccess;
cudaError_t fail(cudaError_t e) {
  lastError = e;
  return e;
}

// ---- memory ----
constexpr size_t kGuard = 256;
constexpr unsigned char kGuardByte = 0xA5, kFreshByte = 0xFF;
struct Alloc {
  unsigned char* raw;
  size_t bytes;
};
// Never destroyed: other statics' destructors free device buffers at exit (as with real CUDA, where the
// runtime may be gone by then; here the bookkeeping must outlive them).
struct Memory {
  std::mutex mu;
  std::map<uintptr_t, Alloc> allocs;  // by the address handed out
};
Memory& memory() {
  static Memory* m = new Memory();
  return *m;
}

bool guardIntact(const Alloc& a, size_t* badOffset) {
  const unsigned char* after = a.raw + kGuard + a.bytes;
  size_t afterLen = kGuard + ((a.bytes + 255) / 256 * 256 - a.bytes);
  for (size_t i = 0; i < kGuard; i++)
    if (a.raw[i] != kGuardByte) return *badOffset = i - kGuard, false;  // negative offsets wrap: printed signed
  for (size_t i = 0; i < afterLen; i++)
    if (after[i] != kGuardByte) return *badOffset = a.bytes + i, false;
  return true;
}

std::string hex(uintptr_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)v);
  return buf;
}

// ---- the current operation, for messages ----
thread_local const char* currentOp = "";

void checkGuards(const char* after) {
  std::lock_guard<std::mutex> lock(memory().mu);
  for (auto& [addr, a] : memory().allocs) {
    size_t off;
    if (!guardIntact(a, &off))
      fatal("a write outside device allocation " + hex(addr) + " (" + std::to_string(a.bytes) + " bytes), at offset " +
            std::to_string((long long)off) + ", found after " + after);
  }
}

// ---- streams ----
CUstream_st legacyStream;
CUstream_st* streamOf(cudaStream_t s) { return s ? s : &legacyStream; }

// Whether this thread is inside a capture that forbids "potentially unsafe" calls (we use ThreadLocal).
thread_local CUstream_st* capturingHere = nullptr;

// A call real CUDA refuses during a capture: invalidates it and returns the error.
cudaError_t refuseInCapture() {
  if (capturingHere) capturingHere->invalidated = true;
  return fail(cudaErrorStreamCaptureUnsupported);
}

// ---- kernels: fibers ----
// A fiber switch saves the callee-saved registers on the old stack and pops them from the new one: glibc's
// swapcontext also saves the signal mask with a system call, which made the emulator's blocks 100x slower.
extern "C" void emuSwitch(void** saveSp, void* loadSp);
#if !defined(__x86_64__)
#error "the CUDA emulator's fibers are written for x86-64"
#endif
asm(R"(
  .text
  .globl emuSwitch
  .type emuSwitch, @function
emuSwitch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size emuSwitch, .-emuSwitch
)");

constexpr size_t kStack = 128 * 1024;
enum Wait { kNone = 0, kBlock = 1, kWarp = 2 };
struct Fiber {
  void* sp = nullptr;  // saved stack pointer while switched out
  void* asanFake = nullptr;
  void* stack = nullptr;
  uint3 idx;
  int linear = 0;
  Wait wait = kNone;
  unsigned gen = 0;
  bool started = false, done = false;
};
struct Block {
  std::vector<Fiber> fibers;  // stacks kept between launches
  void* mainSp = nullptr;
  void* mainAsanFake = nullptr;
  const void* mainBottom = nullptr;  // the scheduler's stack, for AddressSanitizer
  size_t mainSize = 0;
  Fiber* cur = nullptr;
  const std::function<void()>* body = nullptr;
  bool plain = false, waited = false;
  const char* kernel = "";
  const void* key = nullptr;
  unsigned blockGen = 0, blockArrived = 0, live = 0;
  unsigned warpGen[32], warpArrived[32], warpLive[32];
  uint64_t warpBuf[32][2][32];
};
thread_local Block blk;

[[noreturn]] void fiberEntry() {
  EMU_ASAN_FINISH(nullptr, &blk.mainBottom, &blk.mainSize);
  Fiber* f = blk.cur;
  (*blk.body)();
  f->done = true;
  EMU_ASAN_START(nullptr, blk.mainBottom, blk.mainSize);  // this fiber's frames end here
  emuSwitch(&f->sp, blk.mainSp);
  fatal("a finished fiber was resumed");
}

// A fresh fiber's stack as emuSwitch leaves a suspended one: six saved registers, then fiberEntry as the
// return address, placed so that fiberEntry starts with the stack aligned as after a call.
void* freshStack(void* stack) {
  EMU_ASAN_UNPOISON(static_cast<char*>(stack) + 4096, kStack - 4096);
  auto top = (reinterpret_cast<uintptr_t>(stack) + kStack) & ~uintptr_t(15);
  auto* sp = reinterpret_cast<void**>(top);
  *--sp = nullptr;                                  // fiberEntry's own return address: it never returns
  *--sp = reinterpret_cast<void*>(&fiberEntry);     // popped by emuSwitch's ret
  for (int i = 0; i < 6; i++) *--sp = nullptr;      // rbp rbx r12 r13 r14 r15
  return sp;
}

void* newStack() {
  void* p = mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fatal("cannot map a fiber stack");
  mprotect(p, 4096, PROT_NONE);  // a stack overflow faults instead of corrupting memory
  return p;
}

void yieldToScheduler() {
  Fiber* f = blk.cur;
  EMU_ASAN_START(&f->asanFake, blk.mainBottom, blk.mainSize);
  emuSwitch(&f->sp, blk.mainSp);
  EMU_ASAN_FINISH(f->asanFake, &blk.mainBottom, &blk.mainSize);
}

void release() {
  if (blk.blockArrived > 0 && blk.blockArrived == blk.live) {
    blk.blockGen++;
    blk.blockArrived = 0;
  }
  unsigned warps = (unsigned)(blk.fibers.size() + 31) / 32;
  for (unsigned w = 0; w < warps; w++)
    if (blk.warpArrived[w] > 0 && blk.warpArrived[w] == blk.warpLive[w]) {
      blk.warpGen[w]++;
      blk.warpArrived[w] = 0;
    }
}

bool runnable(const Fiber& f) {
  if (f.done) return false;
  if (!f.started) return true;
  if (f.wait == kBlock) return f.gen < blk.blockGen;
  if (f.wait == kWarp) return f.gen < blk.warpGen[f.linear / 32];
  return false;
}

void runBlockFibers(unsigned threads) {
  while (blk.fibers.size() < threads) blk.fibers.emplace_back();
  blk.blockGen = blk.blockArrived = 0;
  blk.live = threads;
  for (unsigned w = 0; w < 32; w++) blk.warpGen[w] = blk.warpArrived[w] = blk.warpLive[w] = 0;
  for (unsigned t = 0; t < threads; t++) {
    Fiber& f = blk.fibers[t];
    if (!f.stack) f.stack = newStack();
    f.linear = (int)t;
    f.idx = uint3{t % blockDim.x, (t / blockDim.x) % blockDim.y, t / (blockDim.x * blockDim.y)};
    f.wait = kNone;
    f.gen = 0;
    f.started = f.done = false;
    blk.warpLive[t / 32]++;
  }
  while (blk.live > 0) {
    bool progressed = false;
    for (unsigned t = 0; t < threads; t++) {
      Fiber& f = blk.fibers[t];
      if (!runnable(f)) continue;
      progressed = true;
      blk.cur = &f;
      threadIdx = f.idx;
      if (!f.started) {
        f.started = true;
        f.sp = freshStack(f.stack);
      }
      f.wait = kNone;
      EMU_ASAN_START(&blk.mainAsanFake, f.stack, kStack);
      emuSwitch(&blk.mainSp, f.sp);
      EMU_ASAN_FINISH(blk.mainAsanFake, nullptr, nullptr);
      if (f.done) {
        blk.live--;
        blk.warpLive[f.linear / 32]--;
      }
      release();
    }
    if (!progressed)
      fatal(std::string("kernel ") + blk.kernel + ": its threads wait for one another forever (a __syncthreads or warp shuffle " +
            "that not every thread of the block or warp reaches)");
  }
}

// Learned on a launch site's first launch. Never destroyed, like memory().
std::mutex& kernelsMu = *new std::mutex();
std::unordered_map<const void*, bool>& kernelWaits = *new std::unordered_map<const void*, bool>();

}  // namespace

void enqueue(cudaStream_t s, std::function<void()> work) {
  CUstream_st* st = streamOf(s);
  if (st->capturing) {
    if (!st->invalidated) st->graph->ops.push_back(std::move(work));
    return;
  }
  work();
  checkGuards(currentOp[0] ? currentOp : "a library call");
  currentOp = "";
}

bool checkConfig(const Config& c) {
  unsigned threads = c.block.x * c.block.y * c.block.z;
  if (c.grid.x == 0 || c.grid.y == 0 || c.grid.z == 0 || threads == 0 || threads > 1024 || c.grid.y > 65535 || c.grid.z > 65535) {
    lastError = cudaErrorInvalidValue;  // real CUDA: cudaErrorInvalidConfiguration
    return false;
  }
  return true;
}

bool beginGrid(const Config& c, const char* name, const void* kernel) {
  currentOp = name;
  bool plain;
  {
    std::lock_guard<std::mutex> lock(kernelsMu);
    auto it = kernelWaits.find(kernel);
    plain = it != kernelWaits.end() && !it->second;
  }
  gridDim = c.grid;
  blockDim = c.block;
  blk.plain = plain;
  blk.waited = false;
  blk.kernel = name;
  blk.key = kernel;
  return plain;
}

void runGridFibers(const Config& c, const std::function<void()>& thread) {
  unsigned threads = c.block.x * c.block.y * c.block.z;
  blk.body = &thread;
  for (unsigned z = 0; z < c.grid.z; z++)
    for (unsigned y = 0; y < c.grid.y; y++)
      for (unsigned x = 0; x < c.grid.x; x++) {
        blockIdx = uint3{x, y, z};
        runBlockFibers(threads);
      }
  std::lock_guard<std::mutex> lock(kernelsMu);
  kernelWaits[blk.key] = blk.waited;
}

void endGrid() { blk.plain = false; }

void syncthreads() {
  if (blk.plain)
    fatal(std::string("kernel ") + blk.kernel + " called __syncthreads after its first launch never did: the emulator runs it without fibers");
  blk.waited = true;
  Fiber* f = blk.cur;
  f->wait = kBlock;
  f->gen = blk.blockGen;
  blk.blockArrived++;
  yieldToScheduler();
}

int laneId() {
  return blk.plain ? (int)((threadIdx.x + threadIdx.y * blockDim.x + threadIdx.z * blockDim.x * blockDim.y) % 32) : blk.cur->linear % 32;
}

uint64_t warpExchange(uint64_t bits, int src) {
  if (blk.plain)
    fatal(std::string("kernel ") + blk.kernel + " shuffled within a warp after its first launch never did: the emulator runs it without fibers");
  blk.waited = true;
  Fiber* f = blk.cur;
  int w = f->linear / 32, lane = f->linear % 32;
  unsigned g = blk.warpGen[w];
  blk.warpBuf[w][g & 1][lane] = bits;
  f->wait = kWarp;
  f->gen = g;
  blk.warpArrived[w]++;
  yieldToScheduler();
  return blk.warpBuf[w][g & 1][src];
}

}  // namespace emu

using emu::fail;

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureWrongThread: return "cudaErrorStreamCaptureWrongThread";
  }
  return "cudaErrorUnknown";
}
const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    default: return cudaGetErrorName(e);
  }
}
cudaError_t cudaGetLastError() {
  cudaError_t e = emu::lastError;
  emu::lastError = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return emu::lastError; }
cudaError_t cudaRuntimeGetVersion(int* v) { return *v = 13000, cudaSuccess; }
cudaError_t cudaDriverGetVersion(int* v) { return *v = 13000, cudaSuccess; }
cudaError_t cudaGetDeviceCount(int* n) { return *n = 1, cudaSuccess; }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (device != 0) return fail(cudaErrorInvalidValue);
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "CUDA emulator on the CPU (not a GPU)");
  p->totalGlobalMem = 16ull << 30;
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = 1;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int device) {
  if (a == cudaDevAttrComputeCapabilityMajor) return *v = 9, cudaSuccess;
  if (a == cudaDevAttrComputeCapabilityMinor) return *v = 0, cudaSuccess;
  return fail(cudaErrorInvalidValue);
}
cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : fail(cudaErrorInvalidValue); }
cudaError_t cudaDeviceSynchronize() { return emu::capturingHere ? emu::refuseInCapture() : cudaSuccess; }

cudaError_t cudaMalloc(void** p, size_t bytes) {
  *p = nullptr;
  if (emu::capturingHere) return emu::refuseInCapture();
  size_t body = (bytes + 255) / 256 * 256;
  auto* raw = static_cast<unsigned char*>(std::aligned_alloc(256, body + 2 * emu::kGuard));
  if (!raw) return fail(cudaErrorMemoryAllocation);
  std::memset(raw, emu::kGuardByte, emu::kGuard);
  std::memset(raw + emu::kGuard, emu::kFreshByte, bytes);
  std::memset(raw + emu::kGuard + bytes, emu::kGuardByte, body - bytes + emu::kGuard);
  *p = raw + emu::kGuard;
  std::lock_guard<std::mutex> lock(emu::memory().mu);
  emu::memory().allocs[(uintptr_t)*p] = emu::Alloc{raw, bytes};
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  if (emu::capturingHere) return emu::refuseInCapture();
  std::lock_guard<std::mutex> lock(emu::memory().mu);
  auto& allocs = emu::memory().allocs;
  auto it = allocs.find((uintptr_t)p);
  if (it == allocs.end()) return fail(cudaErrorInvalidValue);
  size_t off;
  if (!emu::guardIntact(it->second, &off))
    emu::fatal("a write outside device allocation of " + std::to_string(it->second.bytes) + " bytes at offset " +
               std::to_string((long long)off) + ", found when it was freed");
  std::free(it->second.raw);
  allocs.erase(it);
  return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind k) {
  if (emu::capturingHere) return emu::refuseInCapture();
  if (n) std::memmove(dst, src, n);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind k, cudaStream_t s) {
  if (n && (!dst || !src)) return fail(cudaErrorInvalidValue);
  bool host = k == cudaMemcpyHostToDevice || k == cudaMemcpyDeviceToHost || k == cudaMemcpyHostToHost;
  // Pageable host memory cannot be part of a graph: real CUDA refuses such a copy during a capture.
  if (emu::streamOf(s)->capturing && host) return emu::refuseInCapture();
  emu::currentOp = "cudaMemcpyAsync";
  emu::enqueue(s, [=] {
    if (n) std::memmove(dst, src, n);
  });
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t s) {
  if (n && !p) return fail(cudaErrorInvalidValue);
  emu::currentOp = "cudaMemsetAsync";
  emu::enqueue(s, [=] {
    if (n) std::memset(p, value, n);
  });
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags) {
  *s = new CUstream_st();
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  delete s;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  if (emu::capturingHere || emu::streamOf(s)->capturing) return emu::refuseInCapture();
  return cudaSuccess;  // work ran when it was enqueued
}
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode) {
  CUstream_st* st = emu::streamOf(s);
  if (!s || st->capturing || emu::capturingHere) return fail(cudaErrorInvalidValue);
  st->capturing = true;
  st->invalidated = false;
  st->captureThread = std::this_thread::get_id();
  st->graph = new CUgraph_st();
  if (mode != cudaStreamCaptureModeRelaxed) emu::capturingHere = st;
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* g) {
  CUstream_st* st = emu::streamOf(s);
  *g = nullptr;
  if (!st->capturing) return fail(cudaErrorInvalidValue);
  if (st->captureThread != std::this_thread::get_id()) return fail(cudaErrorStreamCaptureWrongThread);
  st->capturing = false;
  if (emu::capturingHere == st) emu::capturingHere = nullptr;
  if (st->invalidated) {
    delete st->graph;
    st->graph = nullptr;
    return fail(cudaErrorStreamCaptureInvalidated);
  }
  *g = st->graph;
  st->graph = nullptr;
  return cudaSuccess;
}
cudaError_t cudaStreamIsCapturing(cudaStream_t s, cudaStreamCaptureStatus* out) {
  CUstream_st* st = emu::streamOf(s);
  *out = !st->capturing ? cudaStreamCaptureStatusNone : st->invalidated ? cudaStreamCaptureStatusInvalidated : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned flags) {
  *e = new CUevent_st();
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete e;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  if (!e) return fail(cudaErrorInvalidResourceHandle);
  emu::currentOp = "cudaEventRecord";
  emu::enqueue(s, [e] {
    e->at = std::chrono::steady_clock::now();
    e->recorded = true;
  });
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  if (emu::capturingHere) return emu::refuseInCapture();
  return e ? cudaSuccess : fail(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!start || !end || !start->recorded || !end->recorded) return fail(cudaErrorInvalidResourceHandle);
  *ms = std::chrono::duration<float, std::milli>(end->at - start->at).count();
  return cudaSuccess;
}

cudaError_t cudaGraphGetNodes(cudaGraph_t g, cudaGraphNode_t* nodes, size_t* count) {
  if (!g) return fail(cudaErrorInvalidValue);
  *count = g->ops.size();
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* e, cudaGraph_t g, unsigned long long flags) {
  if (!g) return fail(cudaErrorInvalidValue);
  *e = new CUgraphExec_st{g->ops};
  return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s) {
  if (!e) return fail(cudaErrorInvalidValue);
  if (emu::streamOf(s)->capturing) return emu::refuseInCapture();  // graphs within graphs: not ours to need
  for (auto& op : e->ops) {
    op();
    emu::checkGuards("a graph's operation");
  }
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e) {
  delete e;
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t g) {
  delete g;
  return cudaSuccess;
}

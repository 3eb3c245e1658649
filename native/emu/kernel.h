// The CUDA emulator's device side: what a .cu file needs once native/emu/unchevron.mjs has turned its
// `kernel<<<grid, block, shared, stream>>>(args)` launches into `::emu::launch(::emu::Config(...), kernel, args)`.
// A launch runs its blocks one after another. A block's threads run as fibers on the calling thread, so
// __syncthreads and warp shuffles can wait for one another; a kernel whose first block never waits runs
// its other blocks' threads, and its later launches from the same site, as plain calls (fast); one that then
// waits aborts the process, saying so.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>
#include "cuda_runtime_api.h"
#include "../stream.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static thread_local
#define __restrict__

extern thread_local uint3 threadIdx;
extern thread_local uint3 blockIdx;
extern thread_local dim3 blockDim;
extern thread_local dim3 gridDim;

namespace emu {

struct Config {
  dim3 grid, block;
  size_t shared;
  cudaStream_t stream;
  Config(dim3 g, dim3 b, size_t sh = 0, cudaStream_t s = nullptr) : grid(g), block(b), shared(sh), stream(s) {}
};

// Starts a grid (runtime.cc): true when the kernel runs without fibers (its first launch never waited), and
// the caller then runs every thread itself; false when runGridFibers must. `kernel` identifies the kernel.
bool beginGrid(const Config& c, const char* name, const void* kernel);
// Runs thread() for every thread of the grid, each block's threads as fibers, and learns whether it waits.
void runGridFibers(const Config& c, const std::function<void()>& thread);
void endGrid();
// Sets the launch error cudaGetLastError() returns (a bad configuration), as a real launch does.
bool checkConfig(const Config& c);

// `call(args...)` calls the kernel; the arguments are copied at the launch, as a real launch copies them.
template <class Call, class... A>
void launch(const Config& c, const char* name, Call call, A&&... a) {
  static const char instance = 0;  // one per kernel instance (Call is a lambda type per launch site)
  if (!checkConfig(c)) return;
  std::tuple<std::decay_t<A>...> args(std::forward<A>(a)...);
  enqueue(c.stream, [c, name, call, args]() mutable {
    auto thread = [&] { std::apply(call, args); };
    if (beginGrid(c, name, &instance)) {
      // Inlined here rather than called through std::function: most of the emulator's time is spent in this loop.
      const unsigned bx = c.block.x, by = c.block.y, bz = c.block.z;
      for (unsigned z = 0; z < c.grid.z; z++)
        for (unsigned y = 0; y < c.grid.y; y++)
          for (unsigned x = 0; x < c.grid.x; x++) {
            blockIdx = uint3{x, y, z};
            for (unsigned tz = 0; tz < bz; tz++)
              for (unsigned ty = 0; ty < by; ty++)
                for (unsigned tx = 0; tx < bx; tx++) {
                  threadIdx = uint3{tx, ty, tz};
                  thread();
                }
          }
    } else {
      runGridFibers(c, thread);
    }
    endGrid();
  });
}

// Synchronization points (runtime.cc).
void syncthreads();
// Exchanges `bits` (up to 8 bytes) within the warp: returns those of lane `src` (of the warp).
uint64_t warpExchange(uint64_t bits, int src);
int laneId();

}  // namespace emu

inline void __syncthreads() { emu::syncthreads(); }
inline void __threadfence() {}

template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "__shfl_down_sync: 8-byte values at most");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  int lane = emu::laneId(), sub = lane % width, src = sub + (int)delta < width ? lane + (int)delta : lane;
  bits = emu::warpExchange(bits, src);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}

// The device library's overloads that our kernels call unqualified.
using std::isinf;
using std::isnan;
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }

inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fadd_rn(float a, float b) { return a + b; }

// Blocks run one at a time on one OS thread, so plain memory operations are atomic here.
inline int atomicCAS(int* p, int compare, int value) {
  int old = *p;
  if (old == compare) *p = value;
  return old;
}
inline int atomicExch(int* p, int value) {
  int old = *p;
  *p = value;
  return old;
}
template <class T>
T atomicAdd(T* p, T v) {
  T old = *p;
  *p = old + v;
  return old;
}

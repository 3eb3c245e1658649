// Kernels that exercise the CUDA emulator (native/emu) itself, run by emulator.test.ts: `probe MODE` prints
// what it computed, or makes the emulator abort with its message.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

// A block-wide sum as our kernels write it (cuda/launch.cuh): warp shuffles, shared memory, __syncthreads.
__global__ void blockSum(const float* x, float* out, int n) {
  __shared__ float partial[32];
  float v = 0.0f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) v += x[blockIdx.x * n + i];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = threadIdx.x < (blockDim.x >> 5) ? partial[lane] : 0.0f;
  if (warp == 0)
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  if (threadIdx.x == 0) out[blockIdx.x] = v;
}

template <class T>
__global__ void scale(T* p, int n, T by) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) p[i] *= by;
}

__global__ void writePastEnd(float* p, int n) { p[n + threadIdx.x] = 1.0f; }
// Half a warp shuffles with a full mask while the rest of the block waits at the barrier: a hang on a GPU.
__global__ void halfShuffles(int* p) {
  int v = threadIdx.x;
  if (threadIdx.x < 16) v = __shfl_down_sync(0xffffffffu, v, 1);
  __syncthreads();
  p[threadIdx.x] = v;
}
__global__ void waitsLater(int* p, int wait) {
  if (wait) __syncthreads();
  p[threadIdx.x] = 1;
}

static int fail(const char* what) {
  std::printf("FAILED %s\n", what);
  return 1;
}

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  cudaStream_t s;
  cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
  if (mode == "sum") {
    // 3 blocks of 256 threads over rows of 1000: every shuffle and barrier must meet its partners.
    const int rows = 3, n = 1000;
    std::vector<float> h(rows * n);
    double want[rows] = {0, 0, 0};
    for (int i = 0; i < rows * n; i++) want[i / n] += h[i] = std::sin(0.37f * i) + 0.1f * (i % 7);
    float *x, *out;
    cudaMalloc((void**)&x, h.size() * sizeof(float));
    cudaMalloc((void**)&out, rows * sizeof(float));
    cudaMemcpyAsync(x, h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice, s);
    blockSum<<<rows, 256, 0, s>>>(x, out, n);
    float got[rows];
    cudaMemcpyAsync(got, out, sizeof got, cudaMemcpyDeviceToHost, s);
    cudaStreamSynchronize(s);
    for (int r = 0; r < rows; r++) std::printf("sum %d %.6f %.6f\n", r, got[r], want[r]);
    return 0;
  }
  if (mode == "fresh") {
    float* p;
    cudaMalloc((void**)&p, 64 * sizeof(float));
    float h[64];
    cudaMemcpyAsync(h, p, sizeof h, cudaMemcpyDeviceToHost, s);
    std::printf("fresh %s\n", std::isnan(h[0]) && std::isnan(h[63]) ? "nan" : "not nan");
    return 0;
  }
  if (mode == "graph") {
    // Recorded work runs at each launch, on what memory holds then; refused calls invalidate the capture.
    float* p;
    cudaMalloc((void**)&p, 4 * sizeof(float));
    float h[4] = {1, 2, 3, 4};
    cudaMemcpyAsync(p, h, sizeof h, cudaMemcpyHostToDevice, s);
    cudaGraph_t g;
    if (cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal) != cudaSuccess) return fail("begin");
    scale<float><<<1, 32, 0, s>>>(p, 4, 2.0f);
    cudaMemsetAsync(p, 0, sizeof(float), s);
    if (cudaStreamEndCapture(s, &g) != cudaSuccess) return fail("end");
    size_t nodes = 0;
    cudaGraphGetNodes(g, nullptr, &nodes);
    cudaGraphExec_t e;
    cudaGraphInstantiate(&e, g, 0);
    cudaMemcpyAsync(h, p, sizeof h, cudaMemcpyDeviceToHost, s);
    std::printf("after capture %g %g\n", h[0], h[1]);  // nothing ran
    cudaGraphLaunch(e, s);
    cudaGraphLaunch(e, s);
    cudaMemcpyAsync(h, p, sizeof h, cudaMemcpyDeviceToHost, s);
    std::printf("after 2 launches %g %g %g %g, %zu nodes\n", h[0], h[1], h[2], h[3], nodes);
    for (const char* call : {"cudaMalloc", "cudaStreamSynchronize", "cudaMemcpyAsync to host"}) {
      cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
      void* q = nullptr;
      cudaError_t r = std::strcmp(call, "cudaMalloc") == 0 ? cudaMalloc(&q, 16)
                      : std::strcmp(call, "cudaStreamSynchronize") == 0 ? cudaStreamSynchronize(s)
                                                                        : cudaMemcpyAsync(h, p, 4, cudaMemcpyDeviceToHost, s);
      cudaGraph_t bad = nullptr;
      cudaError_t end = cudaStreamEndCapture(s, &bad);
      std::printf("%s in capture: %s, end %s\n", call, cudaGetErrorName(r), cudaGetErrorName(end));
    }
    return 0;
  }
  if (mode == "oob") {
    float* p;
    cudaMalloc((void**)&p, 100 * sizeof(float));
    writePastEnd<<<1, 4, 0, s>>>(p, 100);
    cudaStreamSynchronize(s);
    return fail("no abort");
  }
  if (mode == "deadlock") {
    int* p;
    cudaMalloc((void**)&p, 64 * sizeof(int));
    halfShuffles<<<1, 64, 0, s>>>(p);
    return fail("no abort");
  }
  if (mode == "late-wait") {
    int* p;
    cudaMalloc((void**)&p, 64 * sizeof(int));
    for (int wait = 0; wait < 2; wait++) waitsLater<<<2, 32, 0, s>>>(p, wait);  // the first launch never waited
    return fail("no abort");
  }
  if (mode == "config") {
    int* p;
    cudaMalloc((void**)&p, 64 * sizeof(int));
    waitsLater<<<1, 2048, 0, s>>>(p, 0);
    std::printf("launch of 2048 threads: %s\n", cudaGetErrorName(cudaGetLastError()));
    return 0;
  }
  return fail("unknown mode");
}

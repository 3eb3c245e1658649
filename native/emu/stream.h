// The CUDA emulator's streams, for the stand-in cuDNN and cuBLAS (cudnn.cc, cublas.cc): their work goes
// through the stream it was given, as the real libraries' does, so graph capture records it too.
#pragma once
#include <cuda_runtime_api.h>
#include <functional>

namespace emu {

// Runs `work` on stream `s`: at once, or, while `s` captures a graph, at each launch of that graph.
void enqueue(cudaStream_t s, std::function<void()> work);

}  // namespace emu

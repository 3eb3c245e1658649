// Finds and loads cuDNN and cuBLAS at run time (dlopen), so the addon needs neither to build or load.
#pragma once
#include <string>
#include <vector>
#include "cuda/api.h"

namespace vgg {

struct LibraryInfo {
  bool loaded = false;
  std::string path;                  // the file that was loaded
  std::string version;               // "9.6.0"
  std::string error;                 // why it was not loaded (empty when loaded)
  std::vector<std::string> searched; // where it looked, in order
};

struct CudaLibraries {
  cu::Cudnn cudnn;
  cu::Cublas cublas;
  LibraryInfo cudnnInfo, cublasInfo;
};

// Loaded once per process (thread-safe); later calls return the same result.
const CudaLibraries& cudaLibraries();

// The folders searched for a library, in order, for messages and tests: the override variable's
// folder, the dynamic loader's path (shown as "<dynamic loader path>"), CUDA_HOME/CUDA_PATH,
// NVIDIA_WHEELS_DIR, the nvidia wheels Python knows about (cached), /usr/local/cuda.
std::vector<std::string> cudaLibrarySearchDirs(const char* overrideVar);

}  // namespace vgg

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

// The cuDNN functions only the cudnn-ex BatchNorm candidate calls (VGG_CIFAR_CUDA_NHWC=cudnn-ex): deprecated
// in cuDNN 9, so a later build may drop them; they load as optional.
#define VGG_CUDNN_EX_FUNCTIONS                                                                                   \
  "cudnnCreateActivationDescriptor cudnnSetActivationDescriptor cudnnDestroyActivationDescriptor "               \
  "cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize cudnnGetBatchNormalizationBackwardExWorkspaceSize " \
  "cudnnGetBatchNormalizationTrainingExReserveSpaceSize cudnnBatchNormalizationForwardTrainingEx "               \
  "cudnnBatchNormalizationBackwardEx"
// Those of them the loaded cuDNN lacks, space-separated; empty when it has all (or is not loaded at all).
std::string cudnnExMissing();
// The graph (backend) API functions only the fused convolution candidate calls (VGG_CIFAR_CUDA_CONV=fused):
// a cuDNN without them still runs everything else, so they load as optional too.
#define VGG_CUDNN_GRAPH_FUNCTIONS                                                                                    \
  "cudnnBackendCreateDescriptor cudnnBackendDestroyDescriptor cudnnBackendFinalize cudnnBackendSetAttribute "      \
  "cudnnBackendGetAttribute cudnnBackendExecute"
// Those of them the loaded cuDNN lacks, as cudnnExMissing().
std::string cudnnGraphMissing();

// The folders searched for a library, in order: the override variable's folder (or file), the dynamic
// loader's path (shown as "<dynamic loader path>"), CUDA_HOME/CUDA_PATH, NVIDIA_WHEELS_DIR's */lib,
// /usr/local/cuda/lib64. Only when none has the library is Python asked for its nvidia wheels
// (nvidia/*/lib; the answer cached in ~/.cache/vgg-cifar), which are then searched too.
std::vector<std::string> cudaLibrarySearchDirs(const char* overrideVar);

}  // namespace vgg

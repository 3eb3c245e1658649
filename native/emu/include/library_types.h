// The CUDA emulator's library_types.h: the values of NVIDIA's header (native/cuda/check/api_check.cc
// checks ours against it where it exists).
#pragma once
typedef enum cudaDataType_t { CUDA_R_32F = 0, CUDA_R_16BF = 14 } cudaDataType;
typedef enum libraryPropertyType_t { MAJOR_VERSION = 0, MINOR_VERSION = 1, PATCH_LEVEL = 2 } libraryPropertyType;

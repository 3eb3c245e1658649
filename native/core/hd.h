// __host__ __device__ where the CUDA compiler sees this, plain inline elsewhere: per-element math
// written once and shared by native/cpu and native/cuda (and so tested on the CPU).
#pragma once
#if defined(__CUDACC__)
#define VGG_HD __host__ __device__ __forceinline__
#else
#define VGG_HD inline
#endif

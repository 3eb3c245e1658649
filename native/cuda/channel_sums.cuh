// Per-channel sums over the rows of a row-major [rows, C] matrix: an NHWC activation seen as [N*H*W, C].
// Two levels with a fixed order, so results are the same run to run (no atomics):
//   1. channelPartials: block (32 channels, 8 row lanes) per (channel group, row chunk); each thread sums
//      its rows in fp32, the 8 lanes are added in order in shared memory -> partial[chunk][k][c];
//   2. a per-channel kernel of the caller adds the chunks in order (in double) and finishes.
// A warp reads 32 neighbouring channels of one row, so loads are coalesced for any C.
#pragma once
#include "cuda/launch.cuh"

namespace vgg {

constexpr int kSumChannels = 32, kSumLanes = 8;

struct RowChunks {
  int chunks;   // gridDim.y of channelPartials
  int rowsPer;  // rows of one chunk (a multiple of kSumLanes)
};

// Enough chunks to give every SM several blocks, few enough that the second level stays short.
inline RowChunks rowChunks(int64_t rows, int64_t channels) {
  int64_t groups = (channels + kSumChannels - 1) / kSumChannels;
  int64_t want = groups >= 1024 ? 1 : 1024 / groups;
  int64_t per = (rows + want - 1) / want;
  if (per < 4 * kSumLanes) per = 4 * kSumLanes;
  per = (per + kSumLanes - 1) / kSumLanes * kSumLanes;
  return RowChunks{(int)((rows + per - 1) / per), (int)per};
}

// f(acc, i, c) adds row element i (= r * C + c) of channel c into acc[0..K). `init(c)` runs once per
// thread before the rows (for per-channel constants the functor reads).
template <int K, class F>
__global__ void channelPartials(int64_t rows, int C, int rowsPer, float* partial, F f) {
  const int c = blockIdx.x * kSumChannels + threadIdx.x;
  const int64_t r0 = (int64_t)blockIdx.y * rowsPer;
  const int64_t r1 = r0 + rowsPer < rows ? r0 + rowsPer : rows;
  float acc[K];
  for (int k = 0; k < K; k++) acc[k] = 0.0f;
  if (c < C) {
    f.init(c);
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kSumLanes) f(acc, r * C + c, c);
  }
  __shared__ float lanes[K][kSumLanes][kSumChannels + 1];
  for (int k = 0; k < K; k++) lanes[k][threadIdx.y][threadIdx.x] = acc[k];
  __syncthreads();
  if (threadIdx.y == 0 && c < C)
    for (int k = 0; k < K; k++) {
      float s = 0.0f;
      for (int l = 0; l < kSumLanes; l++) s += lanes[k][l][threadIdx.x];
      partial[((int64_t)blockIdx.y * K + k) * C + c] = s;
    }
}

template <int K, class F>
void launchChannelPartials(int64_t rows, int C, RowChunks rc, float* partial, F f, cudaStream_t s) {
  dim3 grid((unsigned)((C + kSumChannels - 1) / kSumChannels), (unsigned)rc.chunks), block(kSumChannels, kSumLanes);
  channelPartials<K><<<grid, block, 0, s>>>(rows, C, rc.rowsPer, partial, f);
}

// The sum over chunks of partial[chunk][k][c], in chunk order, in double.
__device__ __forceinline__ double chunkSum(const float* partial, int chunks, int K, int k, int C, int c) {
  double s = 0.0;
  for (int j = 0; j < chunks; j++) s += (double)partial[((int64_t)j * K + k) * C + c];
  return s;
}

}  // namespace vgg

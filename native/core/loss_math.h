// Per-row math of the classification loss and metrics, shared by native/cpu and native/cuda (one
// thread or one loop per row: rows are short, C = 10 for CIFAR-10).
#pragma once
#include <cmath>
#include <cstdint>
#include "core/hd.h"

namespace vgg {

// Index of the largest value, the first one on ties; a NaN counts as the largest (like torch.argmax).
VGG_HD int32_t argmaxRow(const float* x, int64_t C) {
  int32_t best = 0;
  float bv = x[0];
  for (int64_t c = 1; c < C; c++) {
    float v = x[c];
    if (bv != bv) break;  // NaN already chosen
    if (v > bv || v != v) { bv = v; best = (int32_t)c; }
  }
  return best;
}

VGG_HD float rowMax(const float* x, int64_t C) {
  float m = x[0];
  for (int64_t c = 1; c < C; c++) m = x[c] > m ? x[c] : m;
  return m;
}

// Row-wise softmax with the max subtracted (stable).
VGG_HD void softmaxRow(const float* x, int64_t C, float* p) {
  float m = rowMax(x, C);
  float s = 0.0f;
  for (int64_t c = 0; c < C; c++) { p[c] = expf(x[c] - m); s += p[c]; }
  float inv = 1.0f / s;
  for (int64_t c = 0; c < C; c++) p[c] *= inv;
}

// Cross-entropy of one row with PyTorch's label smoothing ls:
//   target_c = (1 - ls) [c == label] + ls / C
//   loss = (1 - ls) * (-log p_label) + ls * mean_c(-log p_c),  -log p_c = lse - x_c
// Returns the row's loss; when d is not null writes d_c = (p_c - target_c) * scale (scale = 1/N for a
// batch mean). The label must already be checked to lie in [0, C).
VGG_HD float softmaxCrossEntropyRow(const float* x, int64_t C, int32_t label, float ls, float scale, float* d) {
  float m = rowMax(x, C);
  float s = 0.0f, sumx = 0.0f;
  for (int64_t c = 0; c < C; c++) { s += expf(x[c] - m); sumx += x[c] - m; }
  float logS = logf(s);  // lse - m
  float nll = logS - (x[label] - m);
  float smooth = logS - sumx / (float)C;
  float loss = (1.0f - ls) * nll + ls * smooth;
  if (d) {
    float invS = 1.0f / s, off = ls / (float)C;
    for (int64_t c = 0; c < C; c++) {
      float t = off + (c == label ? 1.0f - ls : 0.0f);
      d[c] = (expf(x[c] - m) * invS - t) * scale;
    }
  }
  return loss;
}

}  // namespace vgg

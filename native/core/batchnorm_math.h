// Per-channel and per-element math of batch normalization (PyTorch's BatchNorm2d), shared by the
// backends. Statistics are reduced by each backend its own way; these fold them into the same numbers.
#pragma once
#include <cmath>
#include "core/hd.h"

namespace vgg {

// Training: invStd = 1 / sqrt(var_biased + eps); the running variance takes the unbiased variance
// var_biased * M / (M - 1) (M = N*H*W > 1), running = (1 - momentum) * running + momentum * batch.
VGG_HD float bnInvStd(double varBiased, float eps) { return (float)(1.0 / sqrt(varBiased + (double)eps)); }
VGG_HD void bnUpdateRunning(float& runningMean, float& runningVar, double mean, double varBiased, double M, float momentum) {
  double unbiased = M > 1.0 ? varBiased * M / (M - 1.0) : varBiased;
  runningMean = (float)((1.0 - momentum) * (double)runningMean + momentum * mean);
  runningVar = (float)((1.0 - momentum) * (double)runningVar + momentum * unbiased);
}

// y = (x - mean) * invStd * gamma + beta, folded as y = x * a + b with a = gamma * invStd, b = beta - mean * a.
struct BnAffine { float a, b; };
VGG_HD BnAffine bnAffine(float mean, float invStd, float gamma, float beta) {
  float a = gamma * invStd;
  return BnAffine{a, beta - mean * a};
}

// Backward in training mode, from the channel sums sumDy = sum(dy) and sumDyXhat = sum(dy * xhat):
//   dbeta = sumDy, dgamma = sumDyXhat,
//   dx = gamma * invStd * (dy - sumDy / M - xhat * sumDyXhat / M),  xhat = (x - mean) * invStd
struct BnBackward { float k, meanDy, meanDyXhat, mean, invStd; };
VGG_HD BnBackward bnBackwardCoeffs(float gamma, float mean, float invStd, double sumDy, double sumDyXhat, double M) {
  return BnBackward{gamma * invStd, (float)(sumDy / M), (float)(sumDyXhat / M), mean, invStd};
}
VGG_HD float bnBackwardElement(float x, float dy, const BnBackward& c) {
  float xhat = (x - c.mean) * c.invStd;
  return c.k * (dy - c.meanDy - xhat * c.meanDyXhat);
}

}  // namespace vgg

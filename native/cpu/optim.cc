// Fused optimizer updates: one OpenMP pass over a parameter and its state, per-element math from
// core/optim_math.h (shared with the CUDA backend).
#include "core/optim_multi.h"
#include "cpu/cpu_backend.h"
#include "cpu/simd.h"

namespace vgg {

static const int64_t kParallelMin = 16384;

namespace {
// The optional-state branches are hoisted out of the loops (one loop per case) so that they vectorize.
VGG_SIMD_CLONES void sgdLoop(int64_t n, float* w, const float* g, float* buf, const SgdCoeffs& c) {
  const SgdCoeffs k = c;
  if (buf) {
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) sgdElement(w[i], g[i], buf + i, k);
  } else {
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) sgdElement(w[i], g[i], nullptr, k);
  }
}
VGG_SIMD_CLONES void adamLoop(int64_t n, float* w, const float* g, float* m, float* v, float* vm, const AdamCoeffs& c) {
  const AdamCoeffs k = c;
  if (vm) {
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) adamElement(w[i], g[i], m[i], v[i], vm + i, k);
  } else {
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) adamElement(w[i], g[i], m[i], v[i], nullptr, k);
  }
}
VGG_SIMD_CLONES void adagradLoop(int64_t n, float* w, const float* g, float* s, const AdagradCoeffs& c) {
  const AdagradCoeffs k = c;
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) adagradElement(w[i], g[i], s[i], k);
}
}  // namespace

void CpuBackend::sgdUpdate(const Tensor& param, const Tensor& grad, const Tensor* momentumBuf, const SgdParams& p) {
  const SgdCoeffs c = sgdCoeffs(p);
  int64_t n = physicalNumel(param.shape, param.layout);
  float* w = param.as<float>();
  const float* g = grad.as<float>();
  sgdLoop(n, w, g, c.useMomentum ? momentumBuf->as<float>() : nullptr, c);
}

void CpuBackend::adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor* vmax,
                            const AdamParams& p) {
  const AdamCoeffs c = adamCoeffs(p);
  int64_t n = physicalNumel(param.shape, param.layout);
  float* w = param.as<float>();
  const float* g = grad.as<float>();
  float* mp = m.as<float>();
  float* vp = v.as<float>();
  adamLoop(n, w, g, mp, vp, c.amsgrad ? vmax->as<float>() : nullptr, c);
}

void CpuBackend::adagradUpdate(const Tensor& param, const Tensor& grad, const Tensor& sum, const AdagradParams& p) {
  const AdagradCoeffs c = adagradCoeffs(p);
  int64_t n = physicalNumel(param.shape, param.layout);
  float* w = param.as<float>();
  const float* g = grad.as<float>();
  adagradLoop(n, w, g, sum.as<float>(), c);
}

// Every parameter of a group with the per-tensor loops above (so bit for bit the same), reading the step's
// scalars from the coefficients tensor in host memory: a wrong pairing is caught before anything is written.
void CpuBackend::optimizerUpdateMulti(const MultiTensorLists& l, const Tensor& coeffs) {
  const char* op = l.kind == OptimKind::sgd ? "sgdUpdateMulti" : l.kind == OptimKind::adam ? "adamUpdateMulti" : "adagradUpdateMulti";
  OptimCoeffBlob b;
  std::memcpy(&b, coeffs.data(), sizeof b);
  int opt = optionalSlot(l.kind);
  bool missing = b.kind == (uint32_t)l.kind && optionalSlotNeeded(b) && l.entries[0][opt] == nullptr;
  std::string problem = coeffProblem(op, l.kind, b.kind, missing);
  if (!problem.empty()) throw RangeErr(problem);
  auto f = [](const Tensor* t) { return t ? t->as<float>() : nullptr; };
  for (const MultiEntry& e : l.entries) {
    int64_t n = physicalNumel(e[0]->shape, e[0]->layout);
    if (l.kind == OptimKind::sgd) sgdLoop(n, f(e[0]), f(e[1]), b.sgd.useMomentum ? f(e[2]) : nullptr, b.sgd);
    else if (l.kind == OptimKind::adam) adamLoop(n, f(e[0]), f(e[1]), f(e[2]), f(e[3]), b.adam.amsgrad ? f(e[4]) : nullptr, b.adam);
    else adagradLoop(n, f(e[0]), f(e[1]), f(e[2]), b.adagrad);
  }
}

}  // namespace vgg

// Multi-tensor optimizer updates (one launch over every parameter of a group, as PyTorch's fused and
// foreach optimizers): what napi and both backends share. The step's scalars are not kernel arguments
// but a small float32 tensor ("coefficients") written from the host before the update, so that a CUDA
// graph that captured the update reads a new learning rate and step count at every replay. The tensor
// holds an OptimCoeffBlob: a kind tag (a wrong pairing such as Adam coefficients handed to an SGD update
// is caught) and the same folded scalars (core/optim_math.h) the per-tensor updates compute, so both
// paths update bit for bit alike.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>
#include "core/hd.h"
#include "core/optim_math.h"
#include "core/tensor.h"

namespace vgg {

// float32 elements of a coefficients tensor (binding.d.ts: optimizerCoefficientsSize).
constexpr int kOptimCoeffFloats = 16;

// Tags chosen so that zeros, small integers and typical floats never pass for one.
enum class OptimKind : uint32_t { sgd = 0x56474F01u, adam = 0x56474F02u, adagrad = 0x56474F03u };

inline const char* optimKindName(uint32_t k) {
  switch ((OptimKind)k) {
    case OptimKind::sgd: return "sgd";
    case OptimKind::adam: return "adam";
    case OptimKind::adagrad: return "adagrad";
  }
  return nullptr;
}

struct OptimCoeffBlob {
  uint32_t kind;  // an OptimKind
  uint32_t reserved;
  union {
    SgdCoeffs sgd;
    AdamCoeffs adam;
    AdagradCoeffs adagrad;
  };
};
static_assert(sizeof(OptimCoeffBlob) <= kOptimCoeffFloats * sizeof(float), "coefficients outgrew optimizerCoefficientsSize");

// Zero-filled first: the bytes past the kind's own struct are zero.
inline OptimCoeffBlob emptyBlob(OptimKind k) {
  OptimCoeffBlob b;
  std::memset(&b, 0, sizeof b);
  b.kind = (uint32_t)k;
  return b;
}
inline OptimCoeffBlob coeffBlob(const SgdParams& p) {
  OptimCoeffBlob b = emptyBlob(OptimKind::sgd);
  b.sgd = sgdCoeffs(p);
  return b;
}
inline OptimCoeffBlob coeffBlob(const AdamParams& p) {
  OptimCoeffBlob b = emptyBlob(OptimKind::adam);
  b.adam = adamCoeffs(p);
  return b;
}
inline OptimCoeffBlob coeffBlob(const AdagradParams& p) {
  OptimCoeffBlob b = emptyBlob(OptimKind::adagrad);
  b.adagrad = adagradCoeffs(p);
  return b;
}

// The tensors of one multi-tensor update. Entry i holds parameter i's tensors in a fixed order per kind
// (nullptr where an optional list was not given):
//   sgd: param, grad, momentumBuf      adam: param, grad, expAvg, expAvgSq, maxExpAvgSq
//   adagrad: param, grad, stateSum
constexpr int kMultiSlots = 5;
using MultiEntry = std::array<const Tensor*, kMultiSlots>;
struct MultiTensorLists {
  OptimKind kind;
  std::vector<MultiEntry> entries;
};

inline int multiSlots(OptimKind k) { return k == OptimKind::adam ? 5 : 3; }
// The slot that must be present when the coefficients ask for it (momentum, amsgrad), or -1.
inline int optionalSlot(OptimKind k) { return k == OptimKind::sgd ? 2 : k == OptimKind::adam ? 4 : -1; }
VGG_HD bool optionalSlotNeeded(const OptimCoeffBlob& b) {
  return (OptimKind)b.kind == OptimKind::sgd ? b.sgd.useMomentum : (OptimKind)b.kind == OptimKind::adam ? b.adam.amsgrad : false;
}

// Why coefficients tagged `found` cannot drive a `want` update over these lists (empty when they can):
// another optimizer's coefficients, no coefficients at all, or momentum / amsgrad without its state list.
// `optionalMissing`: the coefficients ask for the optional state and its list was not given.
inline std::string coeffProblem(const char* op, OptimKind want, uint32_t found, bool optionalMissing) {
  std::string w = optimKindName((uint32_t)want);
  const char* f = optimKindName(found);
  if (!f) return std::string(op) + ": coeffs do not hold optimizer coefficients (write them with " + w + "Coefficients first)";
  if (found != (uint32_t)want)
    return std::string(op) + ": coeffs hold " + f + " coefficients (written by " + f + "Coefficients), not " + w + " ones";
  if (optionalMissing)
    return std::string(op) + (want == OptimKind::sgd ? ": the coefficients have momentum > 0 but momentumBufs is null"
                                                     : ": the coefficients have amsgrad on but maxExpAvgSq is null");
  return "";
}

}  // namespace vgg

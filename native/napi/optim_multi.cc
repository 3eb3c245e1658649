// Argument checks of the multi-tensor optimizer updates and of the coefficients they read (binding.d.ts,
// core/optim_multi.h): lists of equal length whose i-th entries are one parameter's tensors, each entry
// checked as the per-tensor update checks it, nothing written shared with anything else in the call, and
// one device for all. Whether the coefficients suit the lists (kind, momentum or amsgrad state) depends on
// what the device holds: the backends check that (the CPU at once, CUDA through its fault record).
#include <cstring>
#include <string>
#include <unordered_map>
#include "core/backend.h"
#include "core/optim_multi.h"
#include "napi/args.h"
#include "napi/optim_args.h"

namespace vgg {

namespace {

void coeffsTensor(Args& a, const Tensor& c) {
  a.dtype(c, "coeffs", DType::f32);
  a.plain(c, "coeffs");
  if (c.shape != std::vector<int64_t>{kOptimCoeffFloats})
    a.rangeError(fmt("coeffs must have shape [%d] (optimizerCoefficientsSize), got %s", kOptimCoeffFloats, c.describe().c_str()));
}

// The step's coefficients are written from the host between graph replays, never inside a capture.
Napi::Value writeCoeffs(Args& a, Tensor& coeffs, const OptimCoeffBlob& b) {
  coeffsTensor(a, coeffs);
  requireNotCapturing(a.op(), "writing the step's coefficients from the host");
  float host[kOptimCoeffFloats] = {0};
  std::memcpy(host, &b, sizeof b);
  backendFor(coeffs.device).upload(coeffs, host);
  coeffs.touch();
  return a.env().Undefined();
}

Napi::Value sgdCoefficients(const Napi::CallbackInfo& info) {
  Args a(info, "sgdCoefficients", 2, 2);
  SgdParams p = sgdParams(a, a.object(0, "p"));
  return writeCoeffs(a, a.tensor(1, "coeffs"), coeffBlob(p));
}

Napi::Value adamCoefficients(const Napi::CallbackInfo& info) {
  Args a(info, "adamCoefficients", 2, 2);
  AdamParams p = adamParams(a, a.object(0, "p"));
  return writeCoeffs(a, a.tensor(1, "coeffs"), coeffBlob(p));
}

Napi::Value adagradCoefficients(const Napi::CallbackInfo& info) {
  Args a(info, "adagradCoefficients", 2, 2);
  AdagradParams p = adagradParams(a, a.object(0, "p"));
  return writeCoeffs(a, a.tensor(1, "coeffs"), coeffBlob(p));
}

struct List {
  const char* name;
  std::vector<Tensor*> ts;  // empty: an optional list passed as null
};

std::string at(const char* list, size_t i) { return std::string(list) + "[" + std::to_string(i) + "]"; }

// lists[0] are the parameters, lists[1] their gradients, the rest state (written, like the parameters).
Napi::Value updateMulti(Args& a, OptimKind kind, const std::vector<List>& lists, Tensor& coeffs) {
  const std::vector<Tensor*>& params = lists[0].ts;
  size_t n = params.size();
  for (const List& l : lists)
    if (!l.ts.empty() && l.ts.size() != n)
      a.rangeError(fmt("%s has %zu tensors but params has %zu (the i-th entries of the lists belong to one parameter)", l.name, l.ts.size(), n));
  const Device dev = params[0]->device;
  for (size_t i = 0; i < n; i++) {
    const Tensor& p = *params[i];
    std::string pn = at("params", i);
    a.dtype(p, pn.c_str(), DType::f32);
    if (p.device != dev)
      a.rangeError(fmt("%s is on %s but params[0] is on %s (one update runs on one device)", pn.c_str(), deviceName(p.device), deviceName(dev)));
    for (size_t k = 1; k < lists.size(); k++)
      if (!lists[k].ts.empty()) like(a, p, *lists[k].ts[i], at(lists[k].name, i).c_str(), pn.c_str());
  }
  // Nothing written may be shared with any other tensor of the call: the entries are updated in parallel.
  std::unordered_map<const Storage*, std::string> written;
  for (size_t k = 0; k < lists.size(); k++) {
    if (k == 1) continue;
    for (size_t i = 0; i < lists[k].ts.size(); i++) {
      std::string name = at(lists[k].name, i);
      auto r = written.emplace(lists[k].ts[i]->storage.get(), name);
      if (!r.second) a.rangeError(fmt("%s and %s must not share storage (both are updated)", r.first->second.c_str(), name.c_str()));
    }
  }
  for (size_t i = 0; i < n; i++) {
    auto w = written.find(lists[1].ts[i]->storage.get());
    if (w != written.end()) a.rangeError(fmt("%s and %s must not share storage", at("grads", i).c_str(), w->second.c_str()));
  }
  coeffsTensor(a, coeffs);
  if (coeffs.device != dev) a.rangeError(fmt("coeffs is on %s but the parameters are on %s", deviceName(coeffs.device), deviceName(dev)));
  auto w = written.find(coeffs.storage.get());
  if (w != written.end()) a.rangeError(fmt("coeffs and %s must not share storage", w->second.c_str()));

  MultiTensorLists ml{kind, std::vector<MultiEntry>(n)};
  for (size_t i = 0; i < n; i++) {
    ml.entries[i].fill(nullptr);
    for (size_t k = 0; k < lists.size(); k++) ml.entries[i][k] = lists[k].ts.empty() ? nullptr : lists[k].ts[i];
  }
  backendFor(dev).optimizerUpdateMulti(ml, coeffs);
  for (size_t k = 0; k < lists.size(); k++)
    if (k != 1)
      for (Tensor* t : lists[k].ts) t->touch();
  return a.env().Undefined();
}

Napi::Value sgdUpdateMulti(const Napi::CallbackInfo& info) {
  Args a(info, "sgdUpdateMulti", 4, 4);
  std::vector<List> l{{"params", a.tensorList(0, "params")}, {"grads", a.tensorList(1, "grads")},
                      {"momentumBufs", a.tensorListOrNull(2, "momentumBufs")}};
  return updateMulti(a, OptimKind::sgd, l, a.tensor(3, "coeffs"));
}

Napi::Value adamUpdateMulti(const Napi::CallbackInfo& info) {
  Args a(info, "adamUpdateMulti", 6, 6);
  std::vector<List> l{{"params", a.tensorList(0, "params")}, {"grads", a.tensorList(1, "grads")}, {"expAvg", a.tensorList(2, "expAvg")},
                      {"expAvgSq", a.tensorList(3, "expAvgSq")}, {"maxExpAvgSq", a.tensorListOrNull(4, "maxExpAvgSq")}};
  return updateMulti(a, OptimKind::adam, l, a.tensor(5, "coeffs"));
}

Napi::Value adagradUpdateMulti(const Napi::CallbackInfo& info) {
  Args a(info, "adagradUpdateMulti", 4, 4);
  std::vector<List> l{{"params", a.tensorList(0, "params")}, {"grads", a.tensorList(1, "grads")}, {"stateSum", a.tensorList(2, "stateSum")}};
  return updateMulti(a, OptimKind::adagrad, l, a.tensor(3, "coeffs"));
}

}  // namespace

void registerOptimMulti(Napi::Env env, Napi::Object exports) {
  exports.Set("optimizerCoefficientsSize", Napi::Number::New(env, kOptimCoeffFloats));
  VGG_EXPORT(exports, "sgdCoefficients", sgdCoefficients);
  VGG_EXPORT(exports, "adamCoefficients", adamCoefficients);
  VGG_EXPORT(exports, "adagradCoefficients", adagradCoefficients);
  VGG_EXPORT(exports, "sgdUpdateMulti", sgdUpdateMulti);
  VGG_EXPORT(exports, "adamUpdateMulti", adamUpdateMulti);
  VGG_EXPORT(exports, "adagradUpdateMulti", adagradUpdateMulti);
}

}  // namespace vgg

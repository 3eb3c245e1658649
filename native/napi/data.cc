// Argument checks of loadBatch and gatherLabels (see binding.d.ts). Index ranges are checked by the
// backend, which can read the indices.
#include <cmath>
#include "core/backend.h"
#include "napi/args.h"

namespace vgg {

static void indexVector(Args& a, const Tensor& ref, const Tensor& ix) {
  a.dtype(ix, "indices", DType::i32);
  a.plain(ix, "indices");
  a.dims(ix, "indices", 1);
  a.sameDevice({&ref, &ix});
}

static BatchParams batchParams(Args& a, size_t i, const Tensor& dataset) {
  Napi::Object o = a.object(i, "p");
  BatchParams p;
  const int64_t C = dataset.shape[1], H = dataset.shape[2], W = dataset.shape[3];
  p.scale = (float)a.field(o, "scale", -HUGE_VAL, HUGE_VAL);
  p.mean = a.numberArrayField(o, "mean");
  p.std = a.numberArrayField(o, "std");
  if (p.mean.size() != p.std.size() || (!p.mean.empty() && (int64_t)p.mean.size() != C))
    a.rangeError(fmt("mean and std must both be empty or have C = %lld entries for dataset %s, got %zu and %zu", (long long)C,
                     dataset.describe().c_str(), p.mean.size(), p.std.size()));
  for (size_t c = 0; c < p.std.size(); c++)
    if (!(p.std[c] > 0.0f)) a.rangeError(fmt("std[%zu] must be > 0, got %g", c, p.std[c]));
  std::string mode = a.stringField(o, "padMode");
  if (mode == "zero") p.padMode = PadMode::zero;
  else if (mode == "reflect") p.padMode = PadMode::reflect;
  else a.rangeError(fmt("option padMode must be 'zero' or 'reflect', got '%s'", mode.c_str()));
  p.cropPad = (int)a.intField(o, "cropPad", 0, 1 << 16);
  if (p.padMode == PadMode::reflect && (p.cropPad >= H || p.cropPad >= W))
    a.rangeError(fmt("reflect padding of %d needs images larger than that, got dataset %s", p.cropPad, dataset.describe().c_str()));
  p.flip = a.boolField(o, "flip");
  // optional (BatchParams.cutout?): absent or undefined is off
  if (!o.Get("cutout").IsUndefined()) p.cutout = (int)a.intField(o, "cutout", 0, std::min(H, W));
  p.seed = (uint64_t)a.intField(o, "seed", 0, (int64_t)9007199254740991LL);
  return p;
}

static Napi::Value loadBatch(const Napi::CallbackInfo& info) {
  Args a(info, "loadBatch", 4, 5);
  Tensor& ds = a.tensor(0, "dataset");
  Tensor& ix = a.tensor(1, "indices");
  Tensor& out = a.tensor(2, "out");
  a.dtype(ds, "dataset", DType::u8);
  a.dims(ds, "dataset", 4);
  a.plain(ds, "dataset");
  indexVector(a, ds, ix);
  BatchParams p = batchParams(a, 3, ds);
  a.dtype(out, "out", DType::f32);
  a.plain(out, "out");
  a.sameDevice({&ds, &out});
  a.shapeIs(out, "out", {ix.shape[0], ds.shape[1], ds.shape[2], ds.shape[3]});
  const Tensor* seedTensor = seedTensorArg(a, 4, ds);
  if (out.numel()) backendFor(ds.device).loadBatch(ds, ix, out, p, seedTensor);
  out.touch();
  return info.Env().Undefined();
}

static Napi::Value gatherLabels(const Napi::CallbackInfo& info) {
  Args a(info, "gatherLabels", 3, 3);
  Tensor& labels = a.tensor(0, "labels");
  Tensor& ix = a.tensor(1, "indices");
  Tensor& out = a.tensor(2, "out");
  if (labels.dtype != DType::u8 && labels.dtype != DType::i32)
    a.typeError(fmt("labels must be uint8 or int32, got %s", labels.describe().c_str()));
  a.dims(labels, "labels", 1);
  a.plain(labels, "labels");
  indexVector(a, labels, ix);
  a.dtype(out, "out", DType::i32);
  a.plain(out, "out");
  a.sameDevice({&labels, &out});
  a.shapeIs(out, "out", ix.shape);
  if (out.numel()) backendFor(labels.device).gatherLabels(labels, ix, out);
  out.touch();
  return info.Env().Undefined();
}

void registerData(Napi::Env env, Napi::Object exports) {
  VGG_EXPORT(exports, "loadBatch", loadBatch);
  VGG_EXPORT(exports, "gatherLabels", gatherLabels);
}

}  // namespace vgg

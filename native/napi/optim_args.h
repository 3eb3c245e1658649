// Shared by the per-tensor (optim.cc) and multi-tensor (optim_multi.cc) optimizer bindings: the checks
// of a hyper-parameter object and of a parameter's companion tensors.
#pragma once
#include "core/params.h"
#include "napi/args.h"

namespace vgg {

SgdParams sgdParams(Args& a, const Napi::Object& o);
AdamParams adamParams(Args& a, const Napi::Object& o);
AdagradParams adagradParams(Args& a, const Napi::Object& o);
// t (called `name`) is float32 with param's device, shape and layout, and does not share its storage.
void like(Args& a, const Tensor& param, const Tensor& t, const char* name, const char* paramName = "param");
void registerOptimMulti(Napi::Env env, Napi::Object exports);

}  // namespace vgg

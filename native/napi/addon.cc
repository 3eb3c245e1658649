// Module entry: registers the Tensor class and every op family.
#include <napi.h>
#include "napi/args.h"

#ifndef VGG_CIFAR_VERSION
#define VGG_CIFAR_VERSION "0.1.0"
#endif

namespace vgg {

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  registerTensorClass(env, exports);
  registerTensors(env, exports);
  registerConv(env, exports);
  registerPool(env, exports);
  registerLinear(env, exports);
  registerElementwise(env, exports);
  registerBatchNorm(env, exports);
  registerLoss(env, exports);
  registerOptim(env, exports);
  registerData(env, exports);
  registerTiming(env, exports);
  registerGraph(env, exports);
  exports.Set("version", VGG_CIFAR_VERSION);
  exports.Set("napiVersion", NAPI_VERSION);
  return exports;
}

}  // namespace vgg

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return vgg::Init(env, exports); }

NODE_API_MODULE(vgg_cifar, InitAddon)

// TEMPORARY STUB: replaced by the batchnorm op family's argument checks.
#include "napi/args.h"
namespace vgg {
void registerBatchNorm(Napi::Env env, Napi::Object exports) {}
}  // namespace vgg

// TEMPORARY STUB: replaced by the pool op family's argument checks.
#include "napi/args.h"
namespace vgg {
void registerPool(Napi::Env env, Napi::Object exports) {}
}  // namespace vgg

// TEMPORARY STUB: replaced by the optim op family's argument checks.
#include "napi/args.h"
namespace vgg {
void registerOptim(Napi::Env env, Napi::Object exports) {}
}  // namespace vgg

// TEMPORARY STUB: replaced by the conv op family's argument checks.
#include "napi/args.h"
namespace vgg {
void registerConv(Napi::Env env, Napi::Object exports) {}
}  // namespace vgg

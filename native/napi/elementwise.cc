// TEMPORARY STUB: replaced by the elementwise op family's argument checks.
#include "napi/args.h"
namespace vgg {
void registerElementwise(Napi::Env env, Napi::Object exports) {}
}  // namespace vgg

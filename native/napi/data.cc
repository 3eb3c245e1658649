// TEMPORARY STUB: replaced by the data op family's argument checks.
#include "napi/args.h"
namespace vgg {
void registerData(Napi::Env env, Napi::Object exports) {}
}  // namespace vgg

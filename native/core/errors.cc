// core/errors.h's formatting helper, shared by the N-API layer's messages and the backends' reports.
#include "core/errors.h"
#include <cstdarg>
#include <cstdio>

namespace vgg {

std::string fmt(const char* f, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, f);
  vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

}  // namespace vgg

#include "core/error.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace seek {
namespace {
std::string VFormat(const char* fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, ap2);
  va_end(ap2);
  std::string s(n > 0 ? n : 0, '\0');
  if (n > 0) std::vsnprintf(s.data(), s.size() + 1, fmt, ap);
  return s;
}
}  // namespace

std::string StrFormat(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = VFormat(fmt, ap);
  va_end(ap);
  return s;
}

void Fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = VFormat(fmt, ap);
  va_end(ap);
  throw Error(s);
}

void CheckFailed(const char* file, int line, const char* cond) {
  std::fprintf(stderr, "seek: internal check failed at %s:%d: %s\n", file, line, cond);
  std::abort();
}

}  // namespace seek

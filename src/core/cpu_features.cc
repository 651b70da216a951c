#include "core/cpu_features.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace seek {

namespace {

CpuFeatures Detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  // __builtin_cpu_supports also checks that the OS saves the YMM state (XGETBV), so a "true" is usable.
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.f16c = __builtin_cpu_supports("f16c");
#endif
  return f;
}

}  // namespace

const CpuFeatures& GetCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

std::string RequestedIsa() {
  const char* env = std::getenv("SEEK_ISA");
  std::string isa = env ? env : "";
  std::transform(isa.begin(), isa.end(), isa.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return isa;
}

}  // namespace seek

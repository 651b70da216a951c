#include "core/cpu_features.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace seek {

namespace {

CpuFeatures Detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  // __builtin_cpu_supports also checks that the OS saves the YMM state (XGETBV), so a "true" is usable.
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  // clang 14's __builtin_cpu_supports does not know "f16c": read CPUID leaf 1, ECX bit 29, directly. F16C
  // uses the YMM state too, which the AVX2 check above already found enabled.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  f.f16c = f.avx2 && __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29)) != 0;
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

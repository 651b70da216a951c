// CPU feature detection, done once per process. Kernel dispatch (kernels/dispatch.h) reads it to choose the
// kernel table; nothing else should branch on the ISA.
#pragma once
#include <string>

namespace seek {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  // True when AVX2, FMA and F16C are all present (what the x86 fast kernels need).
  bool HasAvx2Set() const { return avx2 && fma && f16c; }
};

// Features of the CPU we run on (detected on first call, then cached).
const CpuFeatures& GetCpuFeatures();

// The ISA requested through the environment variable SEEK_ISA ("scalar", "avx2"), lower-cased; empty when
// unset. Used to force the scalar kernel table for comparisons.
std::string RequestedIsa();

}  // namespace seek

// AVX2 + FMA + F16C kernels (x86-64), declared in a portable header and defined in *_avx2.cc files, the only
// files compiled with -mavx2 -mfma -mf16c. Call only when GetCpuFeatures().HasAvx2Set().
//
// The *_avx2.cc files use no standard-library templates or header inline functions: an inline function
// compiled there with AVX2 could be the copy the linker keeps for the whole program (an ODR trap of per-file
// ISA flags), and then crash on a CPU without AVX2.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "kernels/matmul/act_quant.h"
#include "kernels/matmul/row_kernels.h"

namespace seek {
struct GroupKernelSet;  // kernels/matmul/repack.h
}

namespace seek::avx2 {

#if defined(__x86_64__)
// Row kernels for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (legacy_avx2.cc); null for other types.
const RowKernelSet* FindLegacyRowKernels(DType t);
// Row kernels for Q4_K, Q5_K, Q6_K (kquant_avx2.cc); null for other types.
const RowKernelSet* FindKQuantRowKernels(DType t);
// Row kernels for F32, F16, BF16 (float_avx2.cc); null for other types.
const RowKernelSet* FindFloatRowKernels(DType t);
// Group kernels over WeightLayout::kInterleaved8 for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q6_K
// (interleaved_avx2.cc); null otherwise.
const GroupKernelSet* FindGroupKernels(DType t);
// The Q5_0 / Q5_1 ones (interleaved5_avx2.cc, reached through FindGroupKernels); null for other types.
const GroupKernelSet* FindQ5GroupKernels(DType t);

// AVX2 twins of QuantizeActQ8x32Ref / QuantizeActQ8KRef (bit-identical results); out is ActQ8x32* /
// BlockQ8_K*.
void QuantizeActQ8x32Avx2Fn(const float* x, void* out, int64_t n);
void QuantizeActQ8KAvx2Fn(const float* x, void* out, int64_t n);
#endif

}  // namespace seek::avx2

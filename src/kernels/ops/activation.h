// Element-wise activations through the active kernel table (kernels/dispatch.h): model code calls these, the
// table picks the scalar reference (kernels/ref/ops.h) or a SIMD twin.
#pragma once
#include <cstdint>

#include "core/thread_pool.h"

namespace seek {

// gate[i] = silu(gate[i]) * up[i], i in [0, n) (SwiGLU, Shazeer 2020), with the active table's kernel; split
// over the pool (may be null) when n is large (prefill), on the calling thread otherwise (decode: a barrier
// would cost more than the work).
void ApplySwiGLU(float* gate, const float* up, int64_t n, ThreadPool* pool = nullptr);

namespace avx2 {
// The AVX2 twin of the reference SwiGLU (kernels/ref/ops.h): silu(x) = x / (1 + exp(-x)) with a vector exp
// (ExpAvx2, kernels/matmul/avx2_util.h), one correctly rounded division; within 8 ulp of the reference
// (tests/kernels/activation_test.cc).
void SwiGLUAvx2(float* gate, const float* up, int64_t n);
}  // namespace avx2

}  // namespace seek

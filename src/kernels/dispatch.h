// The kernel table: one set of compute kernels per ISA, chosen once at start-up. Model code calls the
// portable entry points (MatMul in kernels/matmul/matmul.h), which go through ActiveKernels(); nothing above
// kernels/ branches on the ISA.
//
// Tables: "scalar" (the reference code in kernels/ref, always present) and "avx2" (x86-64 with AVX2 + FMA +
// F16C, kernels/matmul/*_avx2.cc). An ARM NEON table would be one more entry. The environment variable
// SEEK_ISA=scalar|avx2 picks a table (an unavailable choice falls back to the best one, with a warning);
// by default the best supported table is used.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "core/thread_pool.h"
#include "kernels/attention/attention.h"
#include "kernels/matmul/matmul.h"

namespace seek {

using MatMulFn = void (*)(const MatMulWeight& w, const float* x, float* y, int64_t n_tokens, ThreadPool* pool);
using MatMulManyFn = void (*)(std::span<const MatMulJob> jobs, ThreadPool* pool);

struct KernelTable {
  const char* name;  // "scalar", "avx2"
  // y = W x; handles every type CanDequantize accepts (types without a fast kernel use the reference).
  MatMulFn matmul;
  // The layout this table wants a matmul weight of this type and shape repacked to after loading
  // (kernels/matmul/repack.h); null or kRows = leave it as is. matmul accepts every layout in any table.
  WeightLayout (*repack_layout)(DType type, int64_t n_in, int64_t n_out);
  // Causal attention over a KV cache and the cache's row conversions (kernels/attention/attention.h).
  const AttentionKernels* attention;
  // Many y = W x in one parallel dispatch, each bit-identical to `matmul` (MatMulMany, kernels/matmul/many.h).
  MatMulManyFn matmul_many;
  // gate[i] = silu(gate[i]) * up[i] (ApplySwiGLU, kernels/ops/activation.h).
  void (*swiglu)(float* gate, const float* up, int64_t n);
};

// t.repack_layout(type, n_in, n_out), or kRows when the table repacks nothing.
WeightLayout PreferredLayout(const KernelTable& t, DType type, int64_t n_in, int64_t n_out);

// The table in use (chosen on first call from SEEK_ISA and the CPU features, then fixed).
const KernelTable& ActiveKernels();
// The scalar reference table (always available).
const KernelTable& ScalarKernels();
// A table by name ("scalar", "avx2"); null when it is not compiled in or the CPU lacks the features.
const KernelTable* FindKernels(std::string_view name);

}  // namespace seek

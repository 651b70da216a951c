// The ISA-independent MatMul driver over row kernels (row_kernels.h): quantizes the activations once,
// splits output rows across threads, and tiles tokens so a tile's activations stay in L2 while each
// thread's rows stream past them. Shapes and contract as MatMul (kernels/matmul/matmul.h).
#pragma once
#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/matmul/matmul.h"
#include "kernels/matmul/row_kernels.h"

namespace seek {

// Activation bytes per token tile (a tile is at least 4 tokens): half of a Zen 3 / Skylake L2 of 512 KB,
// leaving room for the weight rows passing through.
constexpr size_t kActTileBytes = 256 * 1024;

void MatMulTiled(const RowKernelSet& kernels, const MatMulWeight& w, const float* x, float* y, int64_t n_tokens,
                 ThreadPool* pool);

}  // namespace seek

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

// Runs fn(begin, end) over [0, n) on the pool in grain-aligned chunks, or inline without one.
template <class Fn>
void Parallel(ThreadPool* pool, int64_t n, int64_t grain, const Fn& fn) {
  if (pool && pool->size() > 1 && n > grain) {
    pool->ParallelFor(n, [&](int64_t b, int64_t e, int) { fn(b, e); }, grain);
  } else {
    fn(0, n);
  }
}

// x [n_tokens][n_in] in activation form `kind` (kF32: x itself); the result lives in a thread-local buffer of
// the calling thread until its next call. *stride = bytes per token.
const uint8_t* QuantizeActivations(ActKind kind, ActQuantFn quantize, const float* x, int64_t n_in,
                                   int64_t n_tokens, ThreadPool* pool, size_t* stride);
// Tokens per tile for activations of act_stride bytes per token (a multiple of 4, at least 4).
int64_t TokenTile(size_t act_stride);

// Output rows [begin, end) of w for all n_tokens tokens, on the calling thread, from activations already in
// the kernels' form (act, act_stride bytes per token): the unit of work of MatMulTiled and MatMulMany.
void MatMulTiledRows(const RowKernelSet& kernels, const MatMulWeight& w, const uint8_t* act, size_t act_stride,
                     float* y, int64_t n_tokens, int64_t begin, int64_t end);

void MatMulTiled(const RowKernelSet& kernels, const MatMulWeight& w, const float* x, float* y, int64_t n_tokens,
                 ThreadPool* pool);

}  // namespace seek

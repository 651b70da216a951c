// The matrix multiply every model layer uses, routed through the kernel table chosen at start-up
// (kernels/dispatch.h): scalar reference (kernels/ref/matmul.h) or SIMD GEMV/GEMM (kernels/matmul/*_avx2.cc).
//
//   y[t][o] = sum_i W[o][i] * x[t][i]     W: [n_in, n_out] in GGML order (n_out rows of n_in elements)
//                                         x: [n_tokens][n_in], y: [n_tokens][n_out]
//
// Every table handles every type CanDequantize accepts (types without a fast kernel use the reference).
// Within one table, y[t] does not depend on n_tokens or the thread count, bit for bit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/dtype.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace seek {

struct MatMulWeight {
  DType type = DType::kF32;
  const void* data = nullptr;
  size_t row_bytes = 0;  // bytes of one row of n_in elements
  int64_t n_in = 0;      // ne[0]
  int64_t n_out = 0;     // ne[1]
  WeightLayout layout = WeightLayout::kRows;  // kInterleaved8: data is in the repacked layout (repack.h)
};

// A 2-D weight view as a MatMulWeight (SEEK_CHECK: 2-D, i.e. ne[2] == ne[3] == 1).
MatMulWeight AsMatMulWeight(const TensorView& w);

// pool may be null (runs on the calling thread).
void MatMul(const MatMulWeight& w, const float* x, float* y, int64_t n_tokens, ThreadPool* pool);
inline void MatMul(const TensorView& w, const float* x, float* y, int64_t n_tokens, ThreadPool* pool) {
  MatMul(AsMatMulWeight(w), x, y, n_tokens, pool);
}

// One multiply of a batch: y [n_tokens][w.n_out] = W x, x [n_tokens][w.n_in]. x may be shared between jobs
// (q/k/v, gate/up); no job's y may overlap another job's x or y.
struct MatMulJob {
  MatMulWeight w;
  const float* x = nullptr;
  float* y = nullptr;
  int64_t n_tokens = 0;
};

// Runs every job with ONE parallel dispatch (one barrier) instead of one per job: the activations are put in
// kernel form once per distinct (x, n_in, n_tokens, form), then the row ranges of all jobs form one work list
// balanced by bytes. Each job's y is bit-identical to MatMul(job.w, job.x, job.y, job.n_tokens, pool) with the
// same table. For decode (n_tokens = 1), where one small MatMul costs little more than its barrier, this is
// the difference (model/blocks/moe.cc: all chosen experts in two dispatches). pool may be null.
void MatMulMany(std::span<const MatMulJob> jobs, ThreadPool* pool);

}  // namespace seek

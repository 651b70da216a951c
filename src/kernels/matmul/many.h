// The driver behind MatMulMany (kernels/matmul/matmul.h), shared by every kernel table: many weight
// multiplies in one parallel dispatch.
//
// Why: in decode (one token) a MatMul of a small weight (one MoE expert's gate, ~1.6 MB; one MLA head's W_UK
// slice, 64 KB) costs little more than the barrier of its ThreadPool::ParallelFor, and DeepSeek-V2-Lite
// makes ~60 of them per layer. Here the jobs' activations are put in kernel form first (once per distinct
// input, on the calling thread, or over the pool when there are many tokens), then the output rows of all
// jobs form one list of units (16 rows, or 2 interleaved groups of 8: one 64-byte line of y per token, so
// threads never share a line), cut into kChunksPerThread slices per thread of about equal cost, and run by
// ONE ParallelFor.
//
// Cost of a unit (for the balance only): its weight bytes x ceil(n_tokens / 4), i.e. bytes streamed in
// decode and kernel calls (each handles up to 4 tokens) in prefill.
//
// Each job's rows are computed by the same functions over the same activations as the table's MatMul
// (MatMulTiledRows, MatMulInterleaved8Groups, MatMulRefRows), and no output depends on how rows are split,
// so every y is bit-identical to the job's own MatMul.
#pragma once
#include <span>

#include "core/thread_pool.h"
#include "kernels/matmul/matmul.h"
#include "kernels/matmul/repack.h"
#include "kernels/matmul/row_kernels.h"

namespace seek {

// How a table computes one weight: row kernels (kRows weights of a type with a fast kernel), group kernels
// (kInterleaved8 weights), or neither (the reference MatMulRefRows on the fp32 activations). At most one is
// set.
struct JobKernels {
  const RowKernelSet* rows = nullptr;
  const GroupKernelSet* groups = nullptr;
};
using ChooseJobKernelsFn = JobKernels (*)(const MatMulWeight& w);

// Runs the jobs as described above; `choose` maps each weight to the table's kernels for it. Jobs with no
// tokens or no output rows are skipped.
void MatMulManyDriver(ChooseJobKernelsFn choose, std::span<const MatMulJob> jobs, ThreadPool* pool);

}  // namespace seek

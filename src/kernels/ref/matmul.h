// Reference matrix multiply against a (possibly quantized) weight matrix: the scalar twin of the fast
// kernels (kernels/matmul/) and the "scalar" entry of the kernel table. Works for every type kernels/quant
// can dequantize. Shapes as MatMul (kernels/matmul/matmul.h, included here for callers of MatMul).
//
// Threads split the output rows. Each row is dequantized once (DequantizeRow) into a per-thread fp32 buffer
// and dotted with every token (DotF32), so dequantization is paid once per row, not once per token. One path
// for every batch size: y[t] does not depend on n_tokens or the thread count, bit for bit. (DotRowF32 would
// skip the buffer for one token, but the scalar DotRowF32 is ~2x slower than dequantize + DotF32.)
#pragma once
#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/matmul/matmul.h"

namespace seek {

// pool may be null (runs on the calling thread).
void MatMulRef(const MatMulWeight& w, const float* x, float* y, int64_t n_tokens, ThreadPool* pool);
// Output rows [begin, end) of MatMulRef for all tokens, on the calling thread (the unit of work of MatMulRef
// and of MatMulMany, kernels/matmul/many.h).
void MatMulRefRows(const MatMulWeight& w, const float* x, float* y, int64_t n_tokens, int64_t begin,
                   int64_t end);

}  // namespace seek

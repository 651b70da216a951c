// Row kernels: the unit of work of the tiled MatMul driver (matmul_tiled.cc). A row kernel dots ONE weight
// row with NT tokens' activations (NT = 1..4), so each weight block is loaded and unpacked once and reused
// across NT tokens, while the driver's token tiling keeps the activations of a tile in L2 and reuses them
// across all rows of a thread. For one token, this is a GEMV streaming the weights at memory speed.
//
// Each token's arithmetic (accumulator layout and order) is the same for every NT, so y[t] does not depend
// on how tokens are grouped: MatMul results are independent of n_tokens and of the thread count.
//
// An ISA provides one RowKernelSet per weight type it accelerates (FindAvx2RowKernels in
// row_kernels_avx2.cc; an ARM NEON set would add a FindNeonRowKernels).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace seek {

// Form of the activations a row kernel reads.
enum class ActKind {
  kF32,       // the fp32 rows of x as given: [n_tokens][n_in] floats
  kQ8x32,     // ActQ8x32 blocks (kernels/matmul/act_quant.h): [n_tokens][n_in / 32]
  kQ8K,       // BlockQ8_K blocks: [n_tokens][n_in / 256]
};

// y[t * y_stride] = dot(weight row w, activations of token t at act + t * act_stride bytes), t < NT.
using RowKernelFn = void (*)(const uint8_t* w, const uint8_t* act, size_t act_stride, int64_t n_in, float* y,
                             int64_t y_stride);
// Quantizes one fp32 activation row of n values into `out` (ActKind kQ8x32 or kQ8K).
using ActQuantFn = void (*)(const float* x, void* out, int64_t n);

// One token against n_rows consecutive weight rows (row_bytes apart): y[o] = dot(row o), o < n_rows.
using RowRunFn = void (*)(const uint8_t* rows, size_t row_bytes, int64_t n_rows, const uint8_t* act, int64_t n_in,
                          float* y);
struct RowKernelSet {
  ActKind act;
  ActQuantFn quantize;  // null for kF32
  RowKernelFn dot[4];   // dot[NT - 1] handles NT tokens
  // Optional decode loop: dot[0] over a run of rows with the loop inside the kernel file (one call per run
  // instead of per row: a Q6_K row of 2048 values is ~1.7 KB, ~120 ns of streaming). Null: per-row calls.
  RowRunFn run1 = nullptr;
};

// Bytes of one token's activations of n_in values in form `act`.
size_t ActRowBytes(ActKind act, int64_t n_in);

}  // namespace seek

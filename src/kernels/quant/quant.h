// Scalar reference quantization for every supported tensor type: dequantize a row, dot a row with an fp32
// vector, and quantize a row. These are the oracles that fast kernels (issue "CPU speed") are tested against.
// Block layouts are in kernels/quant/blocks.h and match GGML bit for bit.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace seek {

// True when DequantizeRow / DotRowF32 support type t (F32, F16, BF16, F8_E4M3, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K).
bool CanDequantize(DType t);
// True when QuantizeRow supports type t (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K,
// Q5_K, Q6_K, Q8_K).
bool CanQuantize(DType t);

// y[0..n) = dequantized row x of type t. n must be a multiple of the block size (SEEK_CHECK).
void DequantizeRow(DType t, const void* x, float* y, int64_t n);

// Returns sum_i dequant(w)[i] * x[i] for a row w of type t with n elements, accumulated in fp32 block by block.
float DotRowF32(DType t, const void* w, const float* x, int64_t n);

// Quantizes n fp32 values into a row of type t: round-to-nearest for the legacy types and Q8_K (bytes as GGML's
// reference quantizers / gguf-py), a weighted least-squares scale (and min) search for Q2_K..Q6_K
// (quant_k_quantize.cc).
void QuantizeRow(DType t, const float* x, void* y, int64_t n);

}  // namespace seek

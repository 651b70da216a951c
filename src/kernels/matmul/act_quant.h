// Activation quantization for the integer dot-product kernels. Each fp32 activation row x[t] is quantized
// once per MatMul into 8-bit blocks, so the weight x activation products become int8 dot products
// (vpmaddubsw + vpmaddwd on AVX2) and only one fp32 multiply-add per block remains.
//
//  - ActQ8x32: 32 values, for Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0 weights. Like GGML's block_q8_1 (scale and
//    the scaled sum, which folds in the weight's offset or min), but with fp32 d and s: the fp16 scale of
//    block_q8_1 would add a rounding error of up to 2^-11 relative for no speed gain here.
//  - BlockQ8_K (kernels/quant/blocks.h): 256 values with 16 partial sums, for Q4_K / Q5_K / Q6_K weights.
//
// Rounding: d = amax / 127, q = round_half_even(x / d) computed as x * (127 / amax), so |q| <= 127 and
// the error per value is at most d / 2. The scalar functions here are the twins of the AVX2 ones
// (act_quant_avx2.cc); tests require them to agree bit for bit.
#pragma once
#include <cstdint>

#include "kernels/quant/blocks.h"

namespace seek {

struct ActQ8x32 {
  float d;  // x ~= d * qs
  float s;  // d * sum(qs)
  int8_t qs[32];
};
static_assert(sizeof(ActQ8x32) == 40);

// n must be a multiple of 32 (ActQ8x32) or 256 (Q8_K).
void QuantizeActQ8x32Ref(const float* x, ActQ8x32* y, int64_t n);
void QuantizeActQ8KRef(const float* x, BlockQ8_K* y, int64_t n);

}  // namespace seek

// Per-block dequantizers and quantizers behind the dispatch in quant.cc. Each function handles one block:
// a dequantizer writes block_size floats, a quantizer reads block_size floats and writes one block.
// Internal to kernels/quant (fast kernels may reuse them as scalar twins).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace seek::quant {

using DequantBlockFn = void (*)(const void* block, float* y);
using QuantBlockFn = void (*)(const float* x, void* block);

// Legacy 32-element types (quant_legacy.cc).
void DequantQ4_0(const void* block, float* y);
void DequantQ4_1(const void* block, float* y);
void DequantQ5_0(const void* block, float* y);
void DequantQ5_1(const void* block, float* y);
void DequantQ8_0(const void* block, float* y);
void DequantQ8_1(const void* block, float* y);
void QuantQ4_0(const float* x, void* block);
void QuantQ4_1(const float* x, void* block);
void QuantQ5_0(const float* x, void* block);
void QuantQ5_1(const float* x, void* block);
void QuantQ8_0(const float* x, void* block);
void QuantQ8_1(const float* x, void* block);

// K-quants, 256-element super-blocks (quant_k.cc).
void DequantQ2_K(const void* block, float* y);
void DequantQ3_K(const void* block, float* y);
void DequantQ4_K(const void* block, float* y);
void DequantQ5_K(const void* block, float* y);
void DequantQ6_K(const void* block, float* y);
void DequantQ8_K(const void* block, float* y);
void QuantQ8_K(const float* x, void* block);

// K-quant quantizers (quant_k_quantize.cc).
void QuantQ2_K(const float* x, void* block);
void QuantQ3_K(const float* x, void* block);
void QuantQ4_K(const float* x, void* block);
void QuantQ5_K(const float* x, void* block);
void QuantQ6_K(const float* x, void* block);

// Round half to even, as GGML's nearest_int(): adding 1.5 * 2^23 leaves the rounded integer in the low
// mantissa bits (under the default rounding mode). Valid for |v| < 2^22, as GGML asserts. Same results as
// std::nearbyint, without its library call (baseline x86-64 has no roundss), which dominated the K-quant
// scale search.
inline int NearestInt(float v) {
  const float shifted = v + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof(bits));
  return (bits & 0x007fffff) - 0x00400000;
}

// Correctly rounded fp32 operations that a compiler can never contract into an FMA (the double result is
// rounded to float; double rounding is harmless for +, -, *, / since 53 >= 2 * 24 + 2). Quantizers use these
// where GGML's reference (built without FMA, as on x86-64 baseline) and gguf-py round each step.
inline float MulF32(float a, float b) {
  return static_cast<float>(static_cast<double>(a) * b);
}
inline float AddF32(float a, float b) {
  return static_cast<float>(static_cast<double>(a) + b);
}
inline float SubF32(float a, float b) {
  return static_cast<float>(static_cast<double>(a) - b);
}

}  // namespace seek::quant

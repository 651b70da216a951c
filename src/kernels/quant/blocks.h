// Quantized block layouts, bit-identical to GGML's (ggml-common.h, block_q4_0 ... block_q8_K). A row of n
// elements of a quantized type is n / block_size blocks laid out back to back with no padding, so a GGUF
// tensor's bytes can be reinterpreted as an array of these structs (all members are 1- or 2-byte aligned,
// except BlockQ8_K's float, which GGML also aligns to 4).
//
// Scales named `d` / `dmin` / `m` / `s` are IEEE fp16 bit patterns (decode with FP16ToF32), except
// BlockQ8_K::d, which is fp32. Sizes must agree with the type_size column of core/dtype.cc's table
// (checked by the static_asserts here and by tests/kernels/quant_test.cc).
#pragma once
#include <cstdint>

namespace seek {

constexpr int kQK4_0 = 32;
constexpr int kQK4_1 = 32;
constexpr int kQK5_0 = 32;
constexpr int kQK5_1 = 32;
constexpr int kQK8_0 = 32;
constexpr int kQK8_1 = 32;
// Super-block size of the K-quants (GGML's QK_K; the 64-element variant was removed upstream).
constexpr int kQK_K = 256;
// Bytes of the packed 6-bit scales + mins of Q4_K / Q5_K (GGML's K_SCALE_SIZE).
constexpr int kKScaleSize = 12;

// ---- Legacy 32-element blocks -------------------------------------------------------------------------

// x[j] = d * (q[j] - 8); q[j] for j < 16 is the low nibble of qs[j], for j >= 16 the high nibble of qs[j-16].
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK4_0 / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// x[j] = d * q[j] + m; nibble order as Q4_0.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK4_1 / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// x[j] = d * (q[j] - 16); low 4 bits as Q4_0, bit 4 of q[j] is bit j of the little-endian uint32 qh.
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK5_0 / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// x[j] = d * q[j] + m; bits as Q5_0.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// x[j] = d * qs[j].
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34);

// x[j] = d * qs[j]; s = d * sum(qs) (used by Q4_1/Q5_1 dot products to fold in the min).
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK8_1];
};
static_assert(sizeof(BlockQ8_1) == 36);

// ---- K-quants: 256-element super-blocks ---------------------------------------------------------------

// 16 sub-blocks of 16. scales[i]: low nibble = scale, high nibble = min of sub-block i.
// x = d * scale * q - dmin * min, q in 0..3. qs byte b (0..63) holds, at bit shift 2k, the element
// 128 * (b / 32) + 32 * k + b % 32.
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;
  uint16_t dmin;
};
static_assert(sizeof(BlockQ2_K) == 84);

// 16 sub-blocks of 16 with signed 6-bit scales (stored +32): low 4 bits of scale i in scales[i % 8] (low
// nibble for i < 8, high for i >= 8), high 2 bits at shift 2 * (i / 4) in scales[8 + i % 4].
// q = low 2 bits (layout as Q2_K) minus 4 when the hmask bit is clear; hmask byte l bit k covers element
// 32 * k + l. x = d * (scale - 32) * q.
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110);

// 8 sub-blocks of 32 with 6-bit scales and mins packed in 12 bytes (see UnpackScaleMinK4 in quant_k.cc).
// qs byte 32 * p + l: low nibble = element 64 * p + l, high nibble = element 64 * p + 32 + l.
// x = d * scale * q - dmin * min.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// As Q4_K plus a fifth bit: qh byte l bit k is bit 4 of element 32 * k + l.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// 16 sub-blocks of 16 with int8 scales; 6-bit q = ql nibble | (2 qh bits << 4), minus 32.
// Per half h (128 elements), l in 0..31: element 128h + l + 32k takes ql[64h + l + 32 (k & 1)] nibble
// (k >= 2: high) and qh[32h + l] bits at shift 2k. x = d * scales[e / 16] * q.
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Intermediate type for K-quant dot products: x = d * qs, bsums[i] = sum of qs[16 i .. 16 i + 15].
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace seek

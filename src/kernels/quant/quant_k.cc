// K-quants (256-element super-blocks): dequantizers for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K and the Q8_K
// quantizer, following GGML's dequantize_row_q*_K / quantize_row_q8_K_ref (ggml-quants.c, introduced in
// llama.cpp PR #1684). Layouts are described in blocks.h.
//
// Exactness: fp16 d (11 significant bits) times a scale of at most 7 bits times q of at most 6 bits fits in
// fp32's 24-bit significand, so each "d * scale * q" is exact and only the final "- dmin * min" rounds. The
// results are therefore bit-identical to GGML and gguf-py regardless of evaluation order or FMA.
//
// The Q2_K..Q6_K quantizers are in quant_k_quantize.cc.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/half.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant_impl.h"

namespace seek::quant {
namespace {

// Scale and min of sub-block j (0..7) from Q4_K/Q5_K's 12 packed bytes: for j < 4 the low 6 bits of bytes
// j and j + 4; for j >= 4 the nibbles of byte j + 4 extended with the top 2 bits of bytes j - 4 and j.
void UnpackScaleMinK4(int j, const uint8_t* q, int* scale, int* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
    *min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Signed scale i (0..15) of Q3_K: 4 low bits from bytes 0..7, 2 high bits from bytes 8..11, minus 32.
int Q3KScale(const uint8_t* s, int i) {
  const int lo = (i < 8) ? (s[i] & 0x0f) : (s[i - 8] >> 4);
  const int hi = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
  return (lo | (hi << 4)) - 32;
}

}  // namespace

void DequantQ2_K(const void* block, float* y) {
  const auto* b = static_cast<const BlockQ2_K*>(block);
  const float d = FP16ToF32(b->d), dmin = FP16ToF32(b->dmin);
  for (int e = 0; e < kQK_K; ++e) {
    const int half = e / 128, k = (e % 128) / 32, l = e % 32;
    const uint8_t sc = b->scales[e / 16];
    const int q = (b->qs[32 * half + l] >> (2 * k)) & 3;
    y[e] = d * static_cast<float>(sc & 0x0f) * static_cast<float>(q) - dmin * static_cast<float>(sc >> 4);
  }
}

void DequantQ3_K(const void* block, float* y) {
  const auto* b = static_cast<const BlockQ3_K*>(block);
  const float d = FP16ToF32(b->d);
  for (int e = 0; e < kQK_K; ++e) {
    const int half = e / 128, k = (e % 128) / 32, l = e % 32;
    const int lo = (b->qs[32 * half + l] >> (2 * k)) & 3;
    const bool high = (b->hmask[l] >> (4 * half + k)) & 1;  // bit set: no offset; clear: subtract 4
    const int q = lo - (high ? 0 : 4);
    y[e] = d * static_cast<float>(Q3KScale(b->scales, e / 16)) * static_cast<float>(q);
  }
}

// Q4_K and Q5_K share the 6-bit scale/min layout; Q5_K adds a fifth bit per quant from qh.
template <class Block>
void DequantK4Family(const void* block, float* y) {
  constexpr bool kFifthBit = std::is_same_v<Block, BlockQ5_K>;
  const auto* b = static_cast<const Block*>(block);
  const float d = FP16ToF32(b->d), dmin = FP16ToF32(b->dmin);
  for (int p = 0; p < kQK_K / 64; ++p) {
    int sc0, m0, sc1, m1;
    UnpackScaleMinK4(2 * p, b->scales, &sc0, &m0);
    UnpackScaleMinK4(2 * p + 1, b->scales, &sc1, &m1);
    const float d0 = d * static_cast<float>(sc0), dm0 = dmin * static_cast<float>(m0);
    const float d1 = d * static_cast<float>(sc1), dm1 = dmin * static_cast<float>(m1);
    const uint8_t* q = b->qs + 32 * p;
    float* out = y + 64 * p;
    for (int l = 0; l < 32; ++l) {
      int h0 = 0, h1 = 0;
      if constexpr (kFifthBit) {
        h0 = ((b->qh[l] >> (2 * p)) & 1) << 4;
        h1 = ((b->qh[l] >> (2 * p + 1)) & 1) << 4;
      }
      out[l] = d0 * static_cast<float>((q[l] & 0x0f) | h0) - dm0;
      out[l + 32] = d1 * static_cast<float>((q[l] >> 4) | h1) - dm1;
    }
  }
}

void DequantQ4_K(const void* block, float* y) { DequantK4Family<BlockQ4_K>(block, y); }

void DequantQ5_K(const void* block, float* y) { DequantK4Family<BlockQ5_K>(block, y); }

void DequantQ6_K(const void* block, float* y) {
  const auto* b = static_cast<const BlockQ6_K*>(block);
  const float d = FP16ToF32(b->d);
  for (int half = 0; half < 2; ++half) {
    const uint8_t* ql = b->ql + 64 * half;
    const uint8_t* qh = b->qh + 32 * half;
    const int8_t* sc = b->scales + 8 * half;
    float* out = y + 128 * half;
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q0 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q1 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      out[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q0);
      out[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q1);
      out[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q2);
      out[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q3);
    }
  }
}

void DequantQ8_K(const void* block, float* y) {
  const auto* b = static_cast<const BlockQ8_K*>(block);
  for (int j = 0; j < kQK_K; ++j) y[j] = b->d * static_cast<float>(b->qs[j]);
}

// GGML's quantize_row_q8_K_ref: scale from the signed value of largest magnitude, iscale = -127 / max,
// q = min(127, nearest_int(iscale * x)) (round half to even), d = 1 / iscale, bsums = sums of 16.
void QuantQ8_K(const float* x, void* block) {
  auto* b = static_cast<BlockQ8_K*>(block);
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kQK_K; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  if (amax == 0.0f) {
    std::memset(b, 0, sizeof(*b));
    return;
  }
  const float iscale = -127.0f / max;
  for (int j = 0; j < kQK_K; ++j) {
    const int v = NearestInt(iscale * x[j]);
    b->qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
  }
  for (int g = 0; g < kQK_K / 16; ++g) {
    int sum = 0;
    for (int j = 0; j < 16; ++j) sum += b->qs[16 * g + j];
    b->bsums[g] = static_cast<int16_t>(sum);
  }
  b->d = 1.0f / iscale;
}

}  // namespace seek::quant

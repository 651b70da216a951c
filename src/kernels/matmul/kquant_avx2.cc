// AVX2 row kernels for the K-quants Q4_K, Q5_K, Q6_K against BlockQ8_K activations. Approach follows
// llama.cpp's ggml_vec_dot_q4_K_q8_K family (ggml-cpu quants.c): per 32 values one vpmaddubsw (unsigned
// weight quants x signed activation quants), then vpmaddwd with the sub-block's integer scale, so scale and
// horizontal add are one instruction and a whole super-block accumulates in int32. The weight's mins (Q4_K,
// Q5_K) or its -32 offset (Q6_K) come from the activation block sums (bsums), one vpmaddwd per super-block.
//
// Per super-block with activation block a (x = a.d * a.qs):
//   Q4_K / Q5_K: w = d * sc_j * q - dmin * m_j (sub-blocks j of 32)
//     dot = d * a.d * sum_j sc_j * sum(q * a.qs) - dmin * a.d * sum_j m_j * (bsum_2j + bsum_2j+1)
//   Q6_K: w = d * sc_i * (q - 32) (sub-blocks i of 16)
//     dot = d * a.d * (sum_i sc_i * sum(q * a.qs) - 32 * sum_i sc_i * bsum_i)
// Bounds: q <= 63 and |a.qs| <= 127 keep vpmaddubsw's int16 pairs below 2 * 63 * 127 = 16002 (no
// saturation), and int32 sums stay far from overflow.
#if defined(__x86_64__)
#include <type_traits>

#include "kernels/matmul/avx2_kernels.h"
#include "kernels/matmul/avx2_util.h"

namespace seek::avx2 {

namespace {

inline float Half(uint16_t h) { return _cvtsh_ss(h); }

// Unpacked per-row super-block data shared by all tokens.
struct SuperBlockK4 {
  __m256i scales;  // int16 sub-block scales sc0..sc7, the same in both 128-bit lanes
  __m256i mins;    // int16 lanes (m0, m0, m1, m1, ..., m7, m7): pairs with the 16 bsums
  float d, dmin;
};

// sc_j in every int16 lane (a shuffle of SuperBlockK4::scales).
inline __m256i ScaleK4(const SuperBlockK4& s, int j) {
  const __m256i pick = _mm256_set1_epi16(static_cast<int16_t>((2 * j) | ((2 * j + 1) << 8)));
  return _mm256_shuffle_epi8(s.scales, pick);
}

// The 12 bytes of 6-bit scales and mins (GGML's get_scale_min_k4 layout) as three little-endian words w0..w2:
//   sc0..3 = w0 & 0x3f, m0..3 = w1 & 0x3f,
//   sc4..7 = (w2 & 0x0f) | (w0 >> 6) << 4,  m4..7 = (w2 >> 4 & 0x0f) | (w1 >> 6) << 4   (per byte).
// Word arithmetic unpacks all 16 values at once; the same approach as llama.cpp's utmp/kmask code.
inline void LoadScalesK4(const uint8_t* packed, uint16_t d, uint16_t dmin, SuperBlockK4* s) {
  const uint32_t w0 = LoadU32(packed), w1 = LoadU32(packed + 4), w2 = LoadU32(packed + 8);
  const uint32_t k6 = 0x3f3f3f3f, k4 = 0x0f0f0f0f, k2 = 0x03030303;
  const uint32_t sc_lo = w0 & k6, m_lo = w1 & k6;
  const uint32_t sc_hi = (w2 & k4) | (((w0 >> 6) & k2) << 4);
  const uint32_t m_hi = ((w2 >> 4) & k4) | (((w1 >> 6) & k2) << 4);
  const __m128i bytes = _mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi), static_cast<int>(m_lo),
                                       static_cast<int>(m_hi));  // sc0..sc7, m0..m7
  s->scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(bytes));
  const __m128i mins_dup = _mm_shuffle_epi8(bytes, _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15));
  s->mins = _mm256_cvtepu8_epi16(mins_dup);
  s->d = Half(d);
  s->dmin = Half(dmin);
}

// acc += d * a.d * isum - dmin * a.d * sum(mins * bsums) for one token.
inline __m256 FinishK4(const SuperBlockK4& s, const BlockQ8_K& a, __m256i isum, __m256 acc) {
  const __m256i msum = _mm256_madd_epi16(Load256(a.bsums), s.mins);
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(s.d * a.d), acc);
  return _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(s.dmin * a.d), acc);
}

inline const BlockQ8_K& ActBlock(const uint8_t* act, size_t act_stride, int t, int64_t blk) {
  return reinterpret_cast<const BlockQ8_K*>(act + t * act_stride)[blk];
}

// Q4_K and Q5_K share everything but the fifth bit of each quant (Q5_K's qh).
template <class Block, int NT>
void DotRowK4Family(const uint8_t* w, const uint8_t* act, size_t act_stride, int64_t n_in, float* y,
                    int64_t y_stride) {
  constexpr bool kFifthBit = std::is_same_v<Block, BlockQ5_K>;
  const auto* blocks = reinterpret_cast<const Block*>(w);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i one = _mm256_set1_epi8(1);
  __m256 acc[NT];
  #pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_in / kQK_K; ++b) {
    const Block& wb = blocks[b];
    PrefetchAhead<sizeof(Block)>(&wb);
    SuperBlockK4 s;
    LoadScalesK4(wb.scales, wb.d, wb.dmin, &s);
    __m256i qh = _mm256_setzero_si256();
    if constexpr (kFifthBit) qh = Load256(wb.qh);  // byte l, bit j: bit 4 of element 32 j + l
    __m256i isum[NT];
    #pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
    for (int p = 0; p < 4; ++p) {
      const __m256i bytes = Load256(wb.qs + 32 * p);
      __m256i lo = _mm256_and_si256(bytes, low4);                         // sub-block 2p
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4);  // sub-block 2p + 1
      if constexpr (kFifthBit) {
        // Bit (2p) / (2p + 1) of each qh byte moved to bit 4 (values are 0/1 per byte, so 16-bit shifts are
        // safe).
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * p), one), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * p + 1), one), 4));
      }
      #pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_K& a = ActBlock(act, act_stride, t, b);
        const __m256i plo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, Load256(a.qs + 64 * p)), ScaleK4(s, 2 * p));
        const __m256i phi =
            _mm256_madd_epi16(_mm256_maddubs_epi16(hi, Load256(a.qs + 64 * p + 32)), ScaleK4(s, 2 * p + 1));
        isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(plo, phi));
      }
    }
    #pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) acc[t] = FinishK4(s, ActBlock(act, act_stride, t, b), isum[t], acc[t]);
  }
  #pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) y[t * y_stride] = HSum(acc[t]);
}

template <int NT>
void DotRowQ4_K(const uint8_t* w, const uint8_t* act, size_t act_stride, int64_t n_in, float* y,
                int64_t y_stride) {
  DotRowK4Family<BlockQ4_K, NT>(w, act, act_stride, n_in, y, y_stride);
}

template <int NT>
void DotRowQ5_K(const uint8_t* w, const uint8_t* act, size_t act_stride, int64_t n_in, float* y,
                int64_t y_stride) {
  DotRowK4Family<BlockQ5_K, NT>(w, act, act_stride, n_in, y, y_stride);
}

template <int NT>
void DotRowQ6_K(const uint8_t* w, const uint8_t* act, size_t act_stride, int64_t n_in, float* y,
                int64_t y_stride) {
  const auto* blocks = reinterpret_cast<const BlockQ6_K*>(w);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i mask30 = _mm256_set1_epi8(0x30);
  __m256 acc[NT];
  #pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_in / kQK_K; ++b) {
    const BlockQ6_K& wb = blocks[b];
    PrefetchAhead<sizeof(BlockQ6_K)>(&wb);
    // All 16 scales as int16 (lanes 0..7 = sc0..7, 8..15 = sc8..15), paired with the 16 bsums for the -32
    // offset; and each half broadcast to both 128-bit lanes for the per-pair shuffles below.
    const __m256i scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wb.scales)));
    const __m256i sc_a = _mm256_permute2x128_si256(scales16, scales16, 0x00);
    const __m256i sc_b = _mm256_permute2x128_si256(scales16, scales16, 0x11);
    // scale[k]: the 32 values of group k = sub-blocks 2k (int16 lanes 0..7) and 2k + 1 (lanes 8..15).
    __m256i scale[8];
    for (int k = 0; k < 8; ++k) {
      const int lo = (2 * k) % 8, hi = (2 * k + 1) % 8;  // int16 index within the 8-scale half
      const __m256i pick = _mm256_setr_epi8(
          char(2 * lo), char(2 * lo + 1), char(2 * lo), char(2 * lo + 1), char(2 * lo), char(2 * lo + 1), char(2 * lo),
          char(2 * lo + 1), char(2 * lo), char(2 * lo + 1), char(2 * lo), char(2 * lo + 1), char(2 * lo),
          char(2 * lo + 1), char(2 * lo), char(2 * lo + 1), char(2 * hi), char(2 * hi + 1), char(2 * hi),
          char(2 * hi + 1), char(2 * hi), char(2 * hi + 1), char(2 * hi), char(2 * hi + 1), char(2 * hi),
          char(2 * hi + 1), char(2 * hi), char(2 * hi + 1), char(2 * hi), char(2 * hi + 1), char(2 * hi),
          char(2 * hi + 1));
      scale[k] = _mm256_shuffle_epi8(k < 4 ? sc_a : sc_b, pick);
    }
    const float d = Half(wb.d);
    __m256i isum[NT];
    #pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = Load256(wb.ql + 64 * h);
      const __m256i ql1 = Load256(wb.ql + 64 * h + 32);
      const __m256i qh = Load256(wb.qh + 32 * h);
      // Quants of elements 128 h + 32 k + l, l < 32 (unsigned 0..63): a nibble of ql0 / ql1 and bits 2k, 2k + 1
      // of qh moved to bits 4, 5 by one 16-bit shift and a mask (no bits cross a byte into bits 4-5).
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), mask30));
      q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), mask30));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4), _mm256_and_si256(qh, mask30));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                             _mm256_and_si256(_mm256_srli_epi16(qh, 2), mask30));
      #pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_K& a = ActBlock(act, act_stride, t, b);
        for (int k = 0; k < 4; ++k) {
          const __m256i p = _mm256_maddubs_epi16(q[k], Load256(a.qs + 128 * h + 32 * k));
          isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(p, scale[4 * h + k]));
        }
      }
    }
    #pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& a = ActBlock(act, act_stride, t, b);
      const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(Load256(a.bsums), scales16), 5);  // 32 * ...
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(isum[t], offset)), _mm256_set1_ps(d * a.d),
                               acc[t]);
    }
  }
  #pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) y[t * y_stride] = HSum(acc[t]);
}

}  // namespace

const RowKernelSet* FindKQuantRowKernels(DType t) {
  static const RowKernelSet kQ4_K = {ActKind::kQ8K, QuantizeActQ8KAvx2Fn,
                                     {DotRowQ4_K<1>, DotRowQ4_K<2>, DotRowQ4_K<3>, DotRowQ4_K<4>},
                                     RunRows1<DotRowQ4_K<1>>};
  static const RowKernelSet kQ5_K = {ActKind::kQ8K, QuantizeActQ8KAvx2Fn,
                                     {DotRowQ5_K<1>, DotRowQ5_K<2>, DotRowQ5_K<3>, DotRowQ5_K<4>},
                                     RunRows1<DotRowQ5_K<1>>};
  static const RowKernelSet kQ6_K = {ActKind::kQ8K, QuantizeActQ8KAvx2Fn,
                                     {DotRowQ6_K<1>, DotRowQ6_K<2>, DotRowQ6_K<3>, DotRowQ6_K<4>},
                                     RunRows1<DotRowQ6_K<1>>};
  switch (t) {
    case DType::kQ4_K: return &kQ4_K;
    case DType::kQ5_K: return &kQ5_K;
    case DType::kQ6_K: return &kQ6_K;
    default: return nullptr;
  }
}

}  // namespace seek::avx2

#endif  // defined(__x86_64__)

// AVX2 activation quantization (see act_quant.h for the format and rounding; the scalar twins are in
// act_quant.cc and must agree bit for bit).
#if defined(__x86_64__)
#include "kernels/matmul/avx2_kernels.h"
#include "kernels/matmul/avx2_util.h"

namespace seek::avx2 {

namespace {

// Max |x| over 8 lanes.
inline float HMax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Quantizes n (a multiple of 32) values with scale amax / 127 into q; returns d. Writes int8 in order.
inline float QuantizeBlock(const float* x, int n, int8_t* q) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  __m256 vmax = _mm256_setzero_ps();
  for (int i = 0; i < n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_and_ps(_mm256_loadu_ps(x + i), abs_mask));
  const float amax = HMax(vmax);
  const float d = amax / 127.0f;
  const __m256 id = _mm256_set1_ps(amax > 0.0f ? 127.0f / amax : 0.0f);
  for (int i = 0; i < n; i += 32) {
    __m256i v[4];
    for (int k = 0; k < 4; ++k) {
      const __m256 r = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * k), id),
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      v[k] = _mm256_cvtps_epi32(r);
    }
    // Pack 4 x 8 int32 -> 32 int8. packs works per 128-bit lane, so fix the order with a permute.
    const __m256i p01 = _mm256_packs_epi32(v[0], v[1]);
    const __m256i p23 = _mm256_packs_epi32(v[2], v[3]);
    const __m256i p = _mm256_packs_epi16(p01, p23);
    const __m256i ordered = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), ordered);
  }
  return d;
}

// Sum of 32 int8 values.
inline int SumI8x32(const int8_t* q) {
  const __m256i w = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
  const __m256i w2 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16)));
  return HSumI32(_mm256_madd_epi16(_mm256_add_epi16(w, w2), _mm256_set1_epi16(1)));
}

}  // namespace

void QuantizeActQ8x32Avx2Fn(const float* x, void* out, int64_t n) {
  auto* y = static_cast<ActQ8x32*>(out);
  for (int64_t b = 0; b < n / 32; ++b) {
    ActQ8x32& blk = y[b];
    blk.d = QuantizeBlock(x + 32 * b, 32, blk.qs);
    blk.s = blk.d * static_cast<float>(SumI8x32(blk.qs));
  }
}

void QuantizeActQ8KAvx2Fn(const float* x, void* out, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(out);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    BlockQ8_K& blk = y[b];
    blk.d = QuantizeBlock(x + kQK_K * b, kQK_K, blk.qs);
    // bsums: 16 sums of 16 values. Widen to int16 and add pairs (vpmaddwd with ones) -> int32, then fold.
    for (int g = 0; g < kQK_K / 16; g += 2) {
      const __m256i a = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.qs + 16 * g)));
      const __m256i c =
          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.qs + 16 * g + 16)));
      blk.bsums[g] = static_cast<int16_t>(HSumI32(_mm256_madd_epi16(a, _mm256_set1_epi16(1))));
      blk.bsums[g + 1] = static_cast<int16_t>(HSumI32(_mm256_madd_epi16(c, _mm256_set1_epi16(1))));
    }
  }
}

}  // namespace seek::avx2

#endif  // defined(__x86_64__)

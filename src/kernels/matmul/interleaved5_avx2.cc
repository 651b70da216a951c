// AVX2 group kernels over WeightLayout::kInterleaved8 for Q5_0 and Q5_1 (layout and arithmetic in repack.h;
// the scalar twins in repack.cc agree bit for bit). Same shape as the Q4 kernels of interleaved_avx2.cc: one
// call = 8 rows x NT tokens (NT = 1..4), each weight block unpacked once per call and reused for the NT
// tokens, the 8 rows in the 8 lanes of one accumulator per token.
//
// Unpacking vector k (k = 0..3) of a block: the low nibbles are step k, the high nibbles step k + 4, and bit 4
// of both comes from the qh plane with one 16-bit shift and a mask each ((qh << (4 - k)) & 0x10 and
// (qh >> k) & 0x10, repack.h): 9 ops per two steps instead of Q4's 3, all on data already in registers.
//
// Bound: quants are 0..31 and activations |q| <= 127, so one vpmaddubsw pair is <= 2 * 31 * 127 = 7874 and
// at most 4 steps may share int16 lanes (<= 31496 < 32767; Q4 sums all 8). So each block is summed in two
// int16 halves (vectors 0, 1 = steps 0, 1, 4, 5 and vectors 2, 3 = steps 2, 3, 6, 7), each widened to int32
// with one vpmaddwd against ones; the int32 sum is the exact isum of the scalar twin.
#if defined(__x86_64__)
#include "kernels/matmul/avx2_kernels.h"
#include "kernels/matmul/avx2_util.h"
#include "kernels/matmul/repack.h"

namespace seek::avx2 {

namespace {

template <class Block, bool kHasMin, int NT>
void DotGroupQ5(const uint8_t* group, const uint8_t* act, size_t act_stride, int64_t n_blocks, float* out) {
  const auto* blocks = reinterpret_cast<const Block*>(group);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i bit4 = _mm256_set1_epi8(0x10);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const Block& blk = blocks[b];
    PrefetchAhead<sizeof(Block)>(&blk);
    const __m256i qh = Load256(blk.qh);
    __m256i isum[NT], s16[NT];
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m256i v = Load256(blk.qs + 32 * k);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(v, low4),
                                         _mm256_and_si256(_mm256_slli_epi16(qh, 4 - k), bit4));
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), low4),
                                         _mm256_and_si256(_mm256_srli_epi16(qh, k), bit4));
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        const ActQ8x32& a = ActBlock(act, act_stride, t, b);
        const __m256i p =
            _mm256_add_epi16(_mm256_maddubs_epi16(lo, Step(a, k)), _mm256_maddubs_epi16(hi, Step(a, k + 4)));
        // Half k / 2 of the block: 4 steps in int16 (bound above), then to int32.
        if (k % 2 == 0) {
          s16[t] = p;
        } else {
          const __m256i w = _mm256_madd_epi16(_mm256_add_epi16(s16[t], p), ones);
          isum[t] = k == 1 ? w : _mm256_add_epi32(isum[t], w);
        }
        if constexpr (NT > 1) {
          if (k % 2 == 0) {
            Pin(s16[t]);
          } else {
            Pin(isum[t]);
          }
        }
      }
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.d)));
    __m256 c;
    if constexpr (kHasMin) {
      c = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.m)));
    } else {
      c = _mm256_mul_ps(d, _mm256_set1_ps(-16.0f));
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const ActQ8x32& a = ActBlock(act, act_stride, t, b);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(d, _mm256_set1_ps(a.d)), acc[t]);
      acc[t] = _mm256_fmadd_ps(c, _mm256_set1_ps(a.s), acc[t]);
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

}  // namespace

const GroupKernelSet* FindQ5GroupKernels(DType t) {
  static const GroupKernelSet kQ5_0 = {
      ActKind::kQ8x32, QuantizeActQ8x32Avx2Fn,
      {DotGroupQ5<BlockQ5_0x8, false, 1>, DotGroupQ5<BlockQ5_0x8, false, 2>, DotGroupQ5<BlockQ5_0x8, false, 3>,
       DotGroupQ5<BlockQ5_0x8, false, 4>}, RunGroups1<DotGroupQ5<BlockQ5_0x8, false, 1>>};
  static const GroupKernelSet kQ5_1 = {
      ActKind::kQ8x32, QuantizeActQ8x32Avx2Fn,
      {DotGroupQ5<BlockQ5_1x8, true, 1>, DotGroupQ5<BlockQ5_1x8, true, 2>, DotGroupQ5<BlockQ5_1x8, true, 3>,
       DotGroupQ5<BlockQ5_1x8, true, 4>}, RunGroups1<DotGroupQ5<BlockQ5_1x8, true, 1>>};
  switch (t) {
    case DType::kQ5_0: return &kQ5_0;
    case DType::kQ5_1: return &kQ5_1;
    default: return nullptr;
  }
}

}  // namespace seek::avx2

#endif  // defined(__x86_64__)

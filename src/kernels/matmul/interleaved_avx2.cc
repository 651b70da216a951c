// AVX2 group kernels over WeightLayout::kInterleaved8 (layout and arithmetic in repack.h; the scalar twins in
// repack.cc agree bit for bit). One call = 8 rows x NT tokens (NT = 1..4); each weight block is unpacked once
// per call and reused for the NT tokens; the 8 rows live in the 8 lanes of one accumulator per token.
//
// Per block and token, step s (values 4s..4s+3): vpbroadcastd of the activation's 4 bytes of step s, then
// vpmaddubsw with the step's 32 weight bytes (4 per row) -> 16 int16 = 2 per row.
//  - Q4_0 / Q4_1: weight quants are 0..15, activations |q| <= 127, so a pair is <= 2 * 15 * 127 = 3810 and
//    the 8 steps of a block add up in int16 (<= 30480 < 32767) before one vpmaddwd with ones -> int32 per row.
//  - Q8_0: signed weights; the sign trick (|w| x sign(a, w)), and vpmaddwd per step (a pair can reach
//    2 * 128 * 127, so steps cannot share int16 lanes).
// Then per block and token: one cvt and two FMAs for all 8 rows (Q4_1: and a mul; repack.h has the formulas).
#if defined(__x86_64__)
#include <cstddef>

#include "kernels/matmul/avx2_kernels.h"
#include "kernels/matmul/avx2_util.h"
#include "kernels/matmul/repack.h"

namespace seek::avx2 {

namespace {

inline __m256 Halves8(const uint16_t* h) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h)));
}

template <class Block, bool kHasMin, int NT>
void DotGroupQ4(const uint8_t* group, const uint8_t* act, size_t act_stride, int64_t n_blocks, float* out) {
  const auto* blocks = reinterpret_cast<const Block*>(group);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const Block& blk = blocks[b];
    PrefetchAhead<sizeof(Block)>(&blk);
    // Per vector k: steps k (low nibbles) and k + 4 (high nibbles), added into each token's int16 sums. Any
    // partial sum of a block's 8 steps stays within 8 * 3810 = 30480 (repack.h), in whatever order.
    __m256i s16[NT];
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m256i v = Load256(blk.qs + 32 * k);
      const __m256i lo = _mm256_and_si256(v, low4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        const ActQ8x32& a = ActBlock(act, act_stride, t, b);
        const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, Step(a, k)), _mm256_maddubs_epi16(hi, Step(a, k + 4)));
        s16[t] = k == 0 ? p : _mm256_add_epi16(s16[t], p);
        if constexpr (NT > 1) Pin(s16[t]);
      }
    }
    const __m256 d = Halves8(blk.d);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const ActQ8x32& a = ActBlock(act, act_stride, t, b);
      const __m256 fsum = _mm256_cvtepi32_ps(_mm256_madd_epi16(s16[t], ones));
      if constexpr (kHasMin) {
        acc[t] = _mm256_fmadd_ps(fsum, _mm256_mul_ps(d, _mm256_set1_ps(a.d)), acc[t]);
        acc[t] = _mm256_fmadd_ps(Halves8(blk.m), _mm256_set1_ps(a.s), acc[t]);
      } else {  // Q4_0: d (isum a.d - 8 a.s), the offset folded in before the row scale (repack.h)
        acc[t] = _mm256_fmadd_ps(d, _mm256_fmadd_ps(fsum, _mm256_set1_ps(a.d), _mm256_set1_ps(-8.0f * a.s)), acc[t]);
      }
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

template <int NT>
void DotGroupQ8_0(const uint8_t* group, const uint8_t* act, size_t act_stride, int64_t n_blocks, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0x8*>(group);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ8_0x8& blk = blocks[b];
    PrefetchAhead<sizeof(BlockQ8_0x8)>(&blk);
    __m256i isum[NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) {
      const __m256i w = Load256(blk.qs + 32 * s);
      const __m256i wabs = _mm256_sign_epi8(w, w);
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        const __m256i x = _mm256_sign_epi8(Step(ActBlock(act, act_stride, t, b), s), w);
        isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(wabs, x), ones));
        Pin(isum[t]);
      }
    }
    const __m256 d = Halves8(blk.d);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const ActQ8x32& a = ActBlock(act, act_stride, t, b);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(d, _mm256_set1_ps(a.d)), acc[t]);
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

// A Q4_Kx8 block's 64 mins (repack.h) as the 4 int16 vectors of the min term (lane 2 r + e of vector u =
// m_(2u+e)r): the mh nibbles split into two clean planes (3 ops), each scm byte and its nibble meet in one
// int16 lane by vpunpck{l,h}bw, and lane >> 6 is the min. 3 loads and 11 ops per block.
inline void UnpackQ4_KxMins16(const BlockQ4_Kx8& blk, __m256i* mins /* [4] */) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i mh = Load256(blk.mh);
  const __m256i mh_lo = _mm256_and_si256(mh, low4), mh_hi = _mm256_and_si256(_mm256_srli_epi16(mh, 4), low4);
  const __m256i s0 = Load256(blk.scm), s1 = Load256(blk.scm + 32);
  mins[0] = _mm256_srli_epi16(_mm256_unpacklo_epi8(s0, mh_lo), 6);
  mins[1] = _mm256_srli_epi16(_mm256_unpackhi_epi8(s0, mh_lo), 6);
  mins[2] = _mm256_srli_epi16(_mm256_unpacklo_epi8(s1, mh_hi), 6);
  mins[3] = _mm256_srli_epi16(_mm256_unpackhi_epi8(s1, mh_hi), 6);
}

// Q4_K: per sub-block j (32 values) the Q4_0 inner loop (int16 sums over 8 steps), then vpmaddwd with the
// 8 rows' sub-block scales (pairs of int16 lanes) -> int32, summed over the super-block. The mins meet the
// activation's 32-value sums with 4 vpmaddwd per token. Bounds: a sub-block's int16 lane <= 30480, times a
// scale <= 63, twice, summed over 8 sub-blocks: < 2^25.
template <int NT>
void DotGroupQ4_K(const uint8_t* group, const uint8_t* act, size_t act_stride, int64_t n_blocks, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ4_Kx8*>(group);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m128i low6 = _mm_set1_epi8(63);  // a scale is bits 0-5 of its scm byte (repack.h)
  __m256 acc[NT];
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ4_Kx8& blk = blocks[b];
    if constexpr (NT > 2) PrefetchAhead<sizeof(BlockQ4_Kx8)>(&blk);
    __m256i isum[NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
    // One to two tokens: the sub-blocks in pairs (2p: low nibbles, 2p + 1: high nibbles of the same 256 bytes),
    // each 32-byte vector loaded once; per step k the 8 rows' 4 quants, added into each token's int16 sums
    // (bound above, in any order). The step loop stays rolled, two steps (one 64-byte line) per iteration with
    // one prefetch each, the block's header lines prefetched at its start (PrefetchAhead's contract: every
    // line kQ4_KPrefetchBytes ahead is touched). The fully unrolled form (64 weight loads at distinct addresses
    // per block) computed as fast from cache but streamed 12-24% slower from DRAM (one TinyLlama-shaped stack
    // of Q4_K matrices, alternating variants: one thread 13.2 -> 14.9 GB/s, two 22.5 -> 27.4 GB/s, where
    // Q4_0 streamed 15.5 and 26.5): its 64 load instructions per block defeat the core's per-instruction
    // stride prefetcher, as a rolled loop does not (rolling by 4 or 8 steps measured alike).
    // Prefetch distance 8 KB, not the common 2 KB: with the 1152-byte block (18 whole lines) 2 KB streamed ~6%
    // slower than the 1184-byte block did, 4-8 KB ~5-10% faster at one thread and ~3-5% at two (alternating
    // variants in one process, 2048x5632 weights streamed from DRAM; 12 KB fell back). The 1184-byte block
    // gained ~5% / ~3% from 8 KB too: the smaller block adds ~2-4% at one thread, ~1% at two.
    constexpr int kQ4_KPrefetchBytes = 8192;
    if constexpr (NT <= 2) {
      static_assert(offsetof(BlockQ4_Kx8, qs) == 128);
#pragma GCC unroll 2
      for (int i = 0; i < 128; i += 64) _mm_prefetch(reinterpret_cast<const char*>(&blk) + kQ4_KPrefetchBytes + i, _MM_HINT_T0);
      const uint8_t* x0[NT];
#pragma GCC unroll 2
      for (int t = 0; t < NT; ++t) x0[t] = reinterpret_cast<const uint8_t*>(reinterpret_cast<const BlockQ8_K*>(act + t * act_stride)[b].qs);
#pragma GCC unroll 1
      for (int p = 0; p < 4; ++p) {
        const __m128i sc8 = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scm + 16 * p)), low6);
        const __m256i sc_lo = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(sc8, sc8));  // lanes 2r, 2r+1 = sc_(2p)r
        const __m256i sc_hi = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sc8, sc8));  // sc_(2p+1)r
        const uint8_t* qs = blk.qs + 256 * p;
        __m256i sl[NT], sh[NT];
#pragma GCC unroll 2
        for (int t = 0; t < NT; ++t) sl[t] = sh[t] = _mm256_setzero_si256();
#pragma GCC unroll 1
        for (int k = 0; k < 8; k += 2) {
          _mm_prefetch(reinterpret_cast<const char*>(qs + 32 * k) + kQ4_KPrefetchBytes, _MM_HINT_T0);
#pragma GCC unroll 2
          for (int kk = k; kk < k + 2; ++kk) {
            const __m256i v = Load256(qs + 32 * kk);
            const __m256i wl = _mm256_and_si256(v, low4);
            const __m256i wh = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
#pragma GCC unroll 2
            for (int t = 0; t < NT; ++t) {
              const uint8_t* x = x0[t] + 64 * p + 4 * kk;
              sl[t] = _mm256_add_epi16(sl[t], _mm256_maddubs_epi16(wl, _mm256_set1_epi32(static_cast<int>(LoadU32(x)))));
              sh[t] = _mm256_add_epi16(sh[t], _mm256_maddubs_epi16(wh, _mm256_set1_epi32(static_cast<int>(LoadU32(x + 32)))));
            }
          }
        }
#pragma GCC unroll 2
        for (int t = 0; t < NT; ++t)
          isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(sl[t], sc_lo), _mm256_madd_epi16(sh[t], sc_hi)));
      }
    } else {
      // Three or four tokens: the sub-block loop stays rolled and each token sums its 8 steps in turn (fewer
      // live registers; an unrolled form spilled and measured ~12% slower at 4 tokens).
      for (int j = 0; j < 8; ++j) {
        const __m128i sc8 = _mm_and_si128(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk.scm + 8 * j)), low6);
        const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(sc8, sc8));
        const uint8_t* qs = blk.qs + 256 * (j / 2);
        const int shift = 4 * (j % 2);
        __m256i w[8];
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) w[k] = _mm256_and_si256(_mm256_srli_epi16(Load256(qs + 32 * k), shift), low4);
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) {
          const BlockQ8_K& a = reinterpret_cast<const BlockQ8_K*>(act + t * act_stride)[b];
          const uint8_t* x = reinterpret_cast<const uint8_t*>(a.qs) + 32 * j;
          __m256i s16 = _mm256_maddubs_epi16(w[0], _mm256_set1_epi32(static_cast<int>(LoadU32(x))));
#pragma GCC unroll 8
          for (int k = 1; k < 8; ++k)
            s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(w[k], _mm256_set1_epi32(static_cast<int>(LoadU32(x + 4 * k)))));
          isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16, sc16));
        }
      }
    }
    __m256i mins[4];
    UnpackQ4_KxMins16(blk, mins);
    const __m256 d = Halves8(blk.d), dmin = Halves8(blk.dmin);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& a = reinterpret_cast<const BlockQ8_K*>(act + t * act_stride)[b];
      // 32-bit words 0, 1, 4, 5 of h = the int16 pairs (s0, s1), (s2, s3), (s4, s5), (s6, s7).
      const __m256i bs = Load256(a.bsums);
      const __m256i h = _mm256_hadd_epi16(bs, bs);
      __m256i msum = _mm256_madd_epi16(mins[0], _mm256_permutevar8x32_epi32(h, _mm256_set1_epi32(0)));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[1], _mm256_permutevar8x32_epi32(h, _mm256_set1_epi32(1))));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[2], _mm256_permutevar8x32_epi32(h, _mm256_set1_epi32(4))));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[3], _mm256_permutevar8x32_epi32(h, _mm256_set1_epi32(5))));
      const __m256 da = _mm256_set1_ps(a.d);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(d, da), acc[t]);
      acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dmin, da), acc[t]);
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

// Q6_K: quants 0..63 are rebuilt from a nibble and two high bits per step; a vpmaddubsw pair can reach
// 2 * 63 * 127 = 16002, so two steps share int16 lanes (<= 32004) before vpmaddwd with the sub-block's
// signed scale (4 steps = one 16-value sub-block). The -32 offset: osum = sum_j sc_j * bsums_j with one
// vpmaddwd per pair of sub-blocks; isum - 32 osum stays in int32 (|.| < 2^29).
template <int NT>
void DotGroupQ6_K(const uint8_t* group, const uint8_t* act, size_t act_stride, int64_t n_blocks, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ6_Kx8*>(group);
  const __m256i low4 = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(3);
  __m256 acc[NT];
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ6_Kx8& blk = blocks[b];
    if constexpr (NT > 2) PrefetchAhead<sizeof(BlockQ6_Kx8)>(&blk);
    __m256i isum[NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
    if constexpr (NT <= 2) {
      // One to two tokens: each (h, k) loads its two ql vectors and its qh vector once per pair of groups g and
      // builds the quants of two groups from them (constant shifts, 4-5 ops per vector): g = 0, 1 take the low
      // nibbles of A / B, g = 2, 3 the high ones; the two high bits of group g are bits 2g, 2g + 1 of qh, moved
      // to bits 4, 5 with one 16-bit shift and a mask (no bits cross a byte into bits 4-5). Two steps share int16
      // lanes (<= 2 * 16002), then vpmaddwd with the sub-block's scales.
      const __m256i mask30 = _mm256_set1_epi8(0x30);
#pragma GCC unroll 1
      for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 2
        for (int gp = 0; gp < 2; ++gp) {  // groups g = 2 gp, 2 gp + 1
          __m256i sc16[2][2];              // [e][half]: sub-block j = 8 h + 2 (2 gp + e) + half
#pragma GCC unroll 2
          for (int e = 0; e < 2; ++e) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.sc + 8 * (8 * h + 2 * (2 * gp + e))));
            sc16[e][0] = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(x, x));  // lanes 2r, 2r+1 = sc_jr
            sc16[e][1] = _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(x, x));
          }
#pragma GCC unroll 1
          for (int kk = 0; kk < 8; kk += 2) {
            __m256i s16[2][NT];
#pragma GCC unroll 2
            for (int k = kk; k < kk + 2; ++k) {
              PrefetchLine<sizeof(BlockQ6_Kx8)>(&blk, 8 * (2 * h + gp) + k);  // lines 0..31 cover 27
              const __m256i a0 = Load256(blk.ql + 512 * h + 32 * k);
              const __m256i a1 = Load256(blk.ql + 512 * h + 256 + 32 * k);
              const __m256i qh = Load256(blk.qh + 256 * h + 32 * k);
              __m256i q[2];
              if (gp == 0) {
                q[0] = _mm256_or_si256(_mm256_and_si256(a0, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), mask30));
                q[1] = _mm256_or_si256(_mm256_and_si256(a1, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), mask30));
              } else {
                q[0] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a0, 4), low4), _mm256_and_si256(qh, mask30));
                q[1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a1, 4), low4),
                                       _mm256_and_si256(_mm256_srli_epi16(qh, 2), mask30));
              }
#pragma GCC unroll 2
              for (int e = 0; e < 2; ++e) {
#pragma GCC unroll 2
                for (int t = 0; t < NT; ++t) {
                  const BlockQ8_K& a = reinterpret_cast<const BlockQ8_K*>(act + t * act_stride)[b];
                  const uint8_t* x = reinterpret_cast<const uint8_t*>(a.qs) + 128 * h + 32 * (2 * gp + e) + 4 * k;
                  const __m256i p = _mm256_maddubs_epi16(q[e], _mm256_set1_epi32(static_cast<int>(LoadU32(x))));
                  s16[e][t] = k == kk ? p : _mm256_add_epi16(s16[e][t], p);
                }
              }
            }
#pragma GCC unroll 2
            for (int e = 0; e < 2; ++e) {
#pragma GCC unroll 2
              for (int t = 0; t < NT; ++t) {
                isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16[e][t], sc16[e][kk / 4]));
                Pin(isum[t]);
              }
            }
          }
        }
      }
    } else {
      for (int hg = 0; hg < 8; ++hg) {  // 32 values 32 hg .. 32 hg + 31 = sub-blocks 2 hg, 2 hg + 1
        const int h = hg / 4, g = hg % 4;
        const uint8_t* ql = blk.ql + 512 * h + 256 * (g % 2);
        const uint8_t* qh = blk.qh + 256 * h;
        __m256i w[8];
  #pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) {
          const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(Load256(ql + 32 * k), 4 * (g / 2)), low4);
          const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(Load256(qh + 32 * k), 2 * g), two);
          w[k] = _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
        }
        __m256i sc16[2];
  #pragma GCC unroll 2
        for (int e = 0; e < 2; ++e) {
          const __m128i sc8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk.sc + 8 * (2 * hg + e)));
          sc16[e] = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(sc8, sc8));  // lanes 2r, 2r+1 = sc_jr
        }
        // Value v = 32 hg + l lives in the activation at qs[v] (the Q8_K order is the natural one).
  #pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) {
          const BlockQ8_K& a = reinterpret_cast<const BlockQ8_K*>(act + t * act_stride)[b];
          const uint8_t* x = reinterpret_cast<const uint8_t*>(a.qs) + 32 * hg;
          __m256i sum = isum[t];
  #pragma GCC unroll 4
          for (int k = 0; k < 8; k += 2) {
            const __m256i p = _mm256_add_epi16(
                _mm256_maddubs_epi16(w[k], _mm256_set1_epi32(static_cast<int>(LoadU32(x + 4 * k)))),
                _mm256_maddubs_epi16(w[k + 1], _mm256_set1_epi32(static_cast<int>(LoadU32(x + 4 * k + 4)))));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, sc16[k / 4]));
          }
          isum[t] = sum;
        }
      }
    }
    // Scale pairs (sc_2i, sc_2i+1) per row for the offset term.
    __m256i scp[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.sc + 16 * i));
      scp[i] = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(x, _mm_srli_si128(x, 8)));
    }
    const __m256 d = Halves8(blk.d);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& a = reinterpret_cast<const BlockQ8_K*>(act + t * act_stride)[b];
      const uint8_t* bs = reinterpret_cast<const uint8_t*>(a.bsums);
      __m256i osum = _mm256_madd_epi16(scp[0], _mm256_set1_epi32(static_cast<int>(LoadU32(bs))));
#pragma GCC unroll 8
      for (int i = 1; i < 8; ++i)
        osum = _mm256_add_epi32(osum, _mm256_madd_epi16(scp[i], _mm256_set1_epi32(static_cast<int>(LoadU32(bs + 4 * i)))));
      const __m256i total = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(osum, 5));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(d, _mm256_set1_ps(a.d)), acc[t]);
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

}  // namespace

const GroupKernelSet* FindGroupKernels(DType t) {
  static const GroupKernelSet kQ4_0 = {
      ActKind::kQ8x32, QuantizeActQ8x32Avx2Fn,
      {DotGroupQ4<BlockQ4_0x8, false, 1>, DotGroupQ4<BlockQ4_0x8, false, 2>, DotGroupQ4<BlockQ4_0x8, false, 3>,
       DotGroupQ4<BlockQ4_0x8, false, 4>}, RunGroups1<DotGroupQ4<BlockQ4_0x8, false, 1>>};
  static const GroupKernelSet kQ4_1 = {
      ActKind::kQ8x32, QuantizeActQ8x32Avx2Fn,
      {DotGroupQ4<BlockQ4_1x8, true, 1>, DotGroupQ4<BlockQ4_1x8, true, 2>, DotGroupQ4<BlockQ4_1x8, true, 3>,
       DotGroupQ4<BlockQ4_1x8, true, 4>}, RunGroups1<DotGroupQ4<BlockQ4_1x8, true, 1>>};
  static const GroupKernelSet kQ8_0 = {ActKind::kQ8x32, QuantizeActQ8x32Avx2Fn,
                                       {DotGroupQ8_0<1>, DotGroupQ8_0<2>, DotGroupQ8_0<3>, DotGroupQ8_0<4>}, RunGroups1<DotGroupQ8_0<1>>};
  static const GroupKernelSet kQ4_K = {ActKind::kQ8K, QuantizeActQ8KAvx2Fn,
                                       {DotGroupQ4_K<1>, DotGroupQ4_K<2>, DotGroupQ4_K<3>, DotGroupQ4_K<4>}, RunGroups1<DotGroupQ4_K<1>>};
  static const GroupKernelSet kQ6_K = {ActKind::kQ8K, QuantizeActQ8KAvx2Fn,
                                       {DotGroupQ6_K<1>, DotGroupQ6_K<2>, DotGroupQ6_K<3>, DotGroupQ6_K<4>}, RunGroups1<DotGroupQ6_K<1>>};
  switch (t) {
    case DType::kQ4_0: return &kQ4_0;
    case DType::kQ4_1: return &kQ4_1;
    case DType::kQ8_0: return &kQ8_0;
    case DType::kQ4_K: return &kQ4_K;
    case DType::kQ6_K: return &kQ6_K;
    case DType::kQ5_0: case DType::kQ5_1: return FindQ5GroupKernels(t);
    default: return nullptr;
  }
}

}  // namespace seek::avx2

#endif  // defined(__x86_64__)

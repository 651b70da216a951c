// Small inline AVX2 helpers shared by the *_avx2.cc kernel files (include only from files compiled with
// -mavx2 -mfma -mf16c). Plain inline functions, no macros.
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/matmul/act_quant.h"

namespace seek::avx2 {

// Sum of the 8 lanes.
inline float HSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Sum of the 8 int32 lanes.
inline int HSumI32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// 16 packed bytes -> 32 bytes of 4-bit values: low nibbles in bytes 0..15, high nibbles in bytes 16..31
// (the element order of Q4_0 / Q4_1 / Q5_0 / Q5_1 blocks).
inline __m256i UnpackNibbles16(const uint8_t* qs) {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i v = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);
  return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes, byte j = 0xFF when bit j is set, else 0.
inline __m256i ExpandBits32(uint32_t bits) {
  // Byte j of the result takes byte j / 8 of `bits`, then tests bit j % 8 of it.
  const __m256i shuffle = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
  const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuffle);
  const __m256i select = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ULL));
  return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, select), select);
}

inline uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// 16 int16 lanes of sum over pairs of u[i] * s[i] (u unsigned 8-bit, s signed 8-bit): vpmaddubsw, then
// vpmaddwd with ones gives 8 int32 sums of 4 products each. Callers keep |u| * |s| * 2 below 32768.
inline __m256i DotU8I8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// As DotU8I8 but both operands signed (|w| <= 128 is fine: 128 * 127 * 2 < 32768).
inline __m256i DotI8I8(__m256i w, __m256i x) {
  return DotU8I8(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
}

// Software prefetch distance of a weight stream, in bytes. A GEMV reads each weight byte once, from DRAM; the
// hardware prefetcher alone kept one thread of the Q4_0 group kernel at ~12 GB/s where a plain read of the same
// bytes reaches ~16 GB/s (Zen 3, 2 cores; two threads: ~17 vs ~22 GB/s with the prefetch). 2 KB is ~100-150 ns
// of streaming at those rates, about one DRAM latency; 1-4 KB measured alike, 256-512 B less.
constexpr int kPrefetchBytes = 2048;

// Prefetches p + kPrefetchBytes + i for i = 0, 64, .. < kBytes. Called once per block of a contiguous stream of
// kBytes-byte blocks, no two prefetched addresses are more than 64 bytes apart, so every line is covered. Near
// the end of a stream it touches up to kPrefetchBytes past it: prefetches never fault, and the lines are
// usually the next rows of the same weight.
template <int kBytes>
inline void PrefetchAhead(const void* p) {
  const char* q = static_cast<const char*>(p) + kPrefetchBytes;
#pragma GCC unroll 32
  for (int i = 0; i < kBytes; i += 64) _mm_prefetch(q + i, _MM_HINT_T0);
}

// The same for large blocks, one line at a time: line i (< ceil(kBytes / 64)) of the block at p, from inside
// the block's loop, so the prefetches of a 1-2 KB block (Q4_K, Q6_K interleaved: 19 and 27 lines) spread over
// its work instead of a burst at its start that fills the L1 miss buffers (the burst streamed ~25% slower).
template <int kBytes>
inline void PrefetchLine(const void* p, int i) {
  if (i * 64 < kBytes) _mm_prefetch(static_cast<const char*>(p) + kPrefetchBytes + 64 * i, _MM_HINT_T0);
}

// GroupKernelSet::run1 from a one-token group kernel: flatten inlines kDot into the loop.
template <auto kDot>
__attribute__((flatten)) void RunGroups1(const uint8_t* groups, size_t group_bytes, int64_t n_groups,
                                         const uint8_t* act, int64_t n_blocks, float* out) {
  for (int64_t g = 0; g < n_groups; ++g) kDot(groups + size_t(g) * group_bytes, act, 0, n_blocks, out + 8 * g);
}

// RowKernelSet::run1 from a one-token row kernel, the same way.
template <auto kDot>
__attribute__((flatten)) void RunRows1(const uint8_t* rows, size_t row_bytes, int64_t n_rows, const uint8_t* act,
                                       int64_t n_in, float* y) {
  for (int64_t o = 0; o < n_rows; ++o) kDot(rows + size_t(o) * row_bytes, act, 0, n_in, y + o, 1);
}

inline __m256i Load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// exp(x), relative error < 2e-7 for x in [-87, 88] (clamped outside; a NaN input gives exp(-87)). Used by the
// attention softmax and SwiGLU.
// 2^n * e^r with n = round(x / ln 2), r = x - n ln 2 (ln 2 split in two for accuracy), |r| <= ln2 / 2, and
// e^r by its degree-6 Taylor polynomial (remainder r^7 / 7! < 1.2e-7).
inline __m256 ExpAvx2(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 poly = _mm256_set1_ps(1.0f / 720.0f);
  poly = _mm256_fmadd_ps(poly, r, _mm256_set1_ps(1.0f / 120.0f));
  poly = _mm256_fmadd_ps(poly, r, _mm256_set1_ps(1.0f / 24.0f));
  poly = _mm256_fmadd_ps(poly, r, _mm256_set1_ps(1.0f / 6.0f));
  poly = _mm256_fmadd_ps(poly, r, _mm256_set1_ps(0.5f));
  poly = _mm256_fmadd_ps(poly, r, _mm256_set1_ps(1.0f));
  poly = _mm256_fmadd_ps(poly, r, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(poly, _mm256_castsi256_ps(e));
}

// Block b of token t's ActQ8x32 activation row (rows act_stride bytes apart): the group kernels' input.
inline const ActQ8x32& ActBlock(const uint8_t* act, size_t act_stride, int t, int64_t b) {
  return reinterpret_cast<const ActQ8x32*>(act + t * act_stride)[b];
}

// The activation's 4 bytes of step s (values 4s .. 4s + 3) in every 32-bit lane.
inline __m256i Step(const ActQ8x32& a, int s) {
  return _mm256_set1_epi32(static_cast<int>(LoadU32(reinterpret_cast<const uint8_t*>(a.qs) + 4 * s)));
}

// Keeps v in a register as computed at this point: an empty asm the compiler cannot see through. Without it
// GCC reassociated the 4-token kernels' chains of integer adds into trees whose many live partial sums spilled
// to the stack (39-64 stack accesses per block in DotGroupQ4<.., 4> and DotGroupQ8_0<4>).
inline void Pin(__m256i& v) { asm("" : "+x"(v)); }

}  // namespace seek::avx2

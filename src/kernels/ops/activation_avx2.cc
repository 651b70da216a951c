// AVX2 element-wise activations (activation.h). In decode the SwiGLU of a layer runs on one thread between two
// matmuls while the pool's other threads wait, so its cost counts twice: the scalar loop (one libm expf call per
// value) was ~1% of the samples of a TinyLlama decode, about 2% of the calling thread's time.
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/ops/activation.h"

namespace seek::avx2 {

namespace {

// exp(x) for 8 floats: x = n ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2 (ln2 split in a high part exact
// in float and a low part, so n * ln2_hi is exact), exp(r) by its Taylor series to r^7 (truncation error
// < |r|^8 / 8! < 5e-9 relative), times 2^n built in the exponent field. Inputs are clamped to [-87, 88] so 2^n
// stays a normal float: below, exp underflows towards 0 (here ~1.6e-38); above, it would overflow (here ~1.7e38).
// NaN inputs give NaN (the clamps keep a NaN in their first operand's place: max/min return the second
// operand when the first is NaN, so x goes second).
inline __m256 ExpAvx2(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(88.0f), _mm256_max_ps(_mm256_set1_ps(-87.0f), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);   // ln2_hi: 8 significant bits
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);       // ln2_lo = ln2 - ln2_hi
  // Horner: 1 + r (1 + r/2 (1 + r/3 (1 + r/4 (1 + r/5 (1 + r/6 (1 + r/7)))))) as plain coefficients 1/k!.
  __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

}  // namespace

namespace {

inline __m256 SwiGLU8(__m256 g, __m256 u) {
  const __m256 e = ExpAvx2(_mm256_sub_ps(_mm256_setzero_ps(), g));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

}  // namespace

// Every value goes through SwiGLU8, the tail too (through a padded copy): a value's result must not depend on
// where it sits in the buffer, so that a token's row comes out the same in any batch (tests/model/batch_test.cc).
void SwiGLUAvx2(float* gate, const float* up, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(gate + i, SwiGLU8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  if (i < n) {
    alignas(32) float g[8] = {}, u[8] = {};
    for (int64_t j = i; j < n; ++j) {
      g[j - i] = gate[j];
      u[j - i] = up[j];
    }
    _mm256_store_ps(g, SwiGLU8(_mm256_load_ps(g), _mm256_load_ps(u)));
    for (int64_t j = i; j < n; ++j) gate[j] = g[j - i];
  }
}

}  // namespace seek::avx2

#endif  // defined(__x86_64__)

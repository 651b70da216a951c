// AVX2 element-wise activations (activation.h). In decode the SwiGLU of a layer runs on one thread between two
// matmuls while the pool's other threads wait, so its cost counts twice: the scalar loop (one libm expf call per
// value) was ~1% of the samples of a TinyLlama decode, about 2% of the calling thread's time.
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/matmul/avx2_util.h"
#include "kernels/ops/activation.h"

namespace seek::avx2 {

namespace {

// silu(g) * u = g / (1 + exp(-g)) * u, with avx2_util.h's vector exp and one correctly rounded division.
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

#include "kernels/matmul/act_quant.h"

#include <cmath>

namespace seek {

namespace {

// Quantizes n values (n <= 256) to int8 with scale amax / 127; returns the scale.
float QuantizeBlock(const float* x, int n, int8_t* q) {
  float amax = 0.0f;
  for (int i = 0; i < n; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  const float d = amax / 127.0f;
  const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
  for (int i = 0; i < n; ++i) q[i] = static_cast<int8_t>(std::nearbyint(x[i] * id));
  return d;
}

}  // namespace

void QuantizeActQ8x32Ref(const float* x, ActQ8x32* y, int64_t n) {
  for (int64_t b = 0; b < n / 32; ++b) {
    ActQ8x32& blk = y[b];
    blk.d = QuantizeBlock(x + 32 * b, 32, blk.qs);
    int sum = 0;
    for (int i = 0; i < 32; ++i) sum += blk.qs[i];
    blk.s = blk.d * static_cast<float>(sum);
  }
}

void QuantizeActQ8KRef(const float* x, BlockQ8_K* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    BlockQ8_K& blk = y[b];
    blk.d = QuantizeBlock(x + kQK_K * b, kQK_K, blk.qs);
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += blk.qs[16 * g + i];
      blk.bsums[g] = static_cast<int16_t>(sum);
    }
  }
}

}  // namespace seek

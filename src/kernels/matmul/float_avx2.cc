// AVX2 row kernels for F32, F16 and BF16 weights against fp32 activations. Weights are widened to fp32 8 at a
// time (vcvtph2ps for F16, a 16-bit shift for BF16) and multiplied with FMA; each widened weight vector is
// reused for NT tokens. Two accumulators per token (16 values per step) hide the FMA latency in the
// one-token GEMV. Rows whose length is not a multiple of 16 finish with an 8-wide step and a scalar tail.
#if defined(__x86_64__)
#include "kernels/matmul/avx2_kernels.h"
#include "kernels/matmul/avx2_util.h"

namespace seek::avx2 {

namespace {

struct F32 {
  static constexpr int kSize = 4;  // bytes per value
  static __m256 Load8(const uint8_t* w, int64_t i) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(w) + i);
  }
  static float Load1(const uint8_t* w, int64_t i) { return reinterpret_cast<const float*>(w)[i]; }
};

struct F16 {
  static constexpr int kSize = 2;
  static __m256 Load8(const uint8_t* w, int64_t i) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * i)));
  }
  static float Load1(const uint8_t* w, int64_t i) {
    uint16_t h;
    __builtin_memcpy(&h, w + 2 * i, 2);
    return _cvtsh_ss(h);
  }
};

struct BF16 {
  static constexpr int kSize = 2;
  static __m256 Load8(const uint8_t* w, int64_t i) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * i)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
  static float Load1(const uint8_t* w, int64_t i) {
    uint16_t h;
    __builtin_memcpy(&h, w + 2 * i, 2);
    const uint32_t bits = uint32_t(h) << 16;
    float f;
    __builtin_memcpy(&f, &bits, 4);
    return f;
  }
};

template <class Type, int NT>
void DotRow(const uint8_t* w, const uint8_t* act, size_t act_stride, int64_t n_in, float* y, int64_t y_stride) {
  const float* x[NT];
  __m256 acc0[NT], acc1[NT];
  #pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) {
    x[t] = reinterpret_cast<const float*>(act + t * act_stride);
    acc0[t] = acc1[t] = _mm256_setzero_ps();
  }
  int64_t i = 0;
  for (; i + 16 <= n_in; i += 16) {
    PrefetchAhead<16 * Type::kSize>(w + i * Type::kSize);
    const __m256 w0 = Type::Load8(w, i), w1 = Type::Load8(w, i + 8);
    #pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      acc0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[t] + i), acc0[t]);
      acc1[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[t] + i + 8), acc1[t]);
    }
  }
  if (i + 8 <= n_in) {
    const __m256 w0 = Type::Load8(w, i);
    #pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) acc0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[t] + i), acc0[t]);
    i += 8;
  }
  #pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) {
    float sum = HSum(_mm256_add_ps(acc0[t], acc1[t]));
    for (int64_t j = i; j < n_in; ++j) sum += Type::Load1(w, j) * x[t][j];
    y[t * y_stride] = sum;
  }
}

template <class Type>
RowKernelSet MakeSet() {
  return {ActKind::kF32, nullptr, {DotRow<Type, 1>, DotRow<Type, 2>, DotRow<Type, 3>, DotRow<Type, 4>},
          RunRows1<DotRow<Type, 1>>};
}

}  // namespace

const RowKernelSet* FindFloatRowKernels(DType t) {
  static const RowKernelSet kF32 = MakeSet<F32>(), kF16 = MakeSet<F16>(), kBF16 = MakeSet<BF16>();
  switch (t) {
    case DType::kF32: return &kF32;
    case DType::kF16: return &kF16;
    case DType::kBF16: return &kBF16;
    default: return nullptr;
  }
}

}  // namespace seek::avx2

#endif  // defined(__x86_64__)

// AVX2 row kernels for the legacy 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) against ActQ8x32
// activations. Approach follows llama.cpp's ggml_vec_dot_q4_0_q8_0 family (ggml-cpu quants.c): integer
// products with vpmaddubsw (unsigned x signed bytes -> pairwise int16) and vpmaddwd (-> int32), then one
// fp32 multiply-add per block with the product of the two scales.
//
// Per block, with q the weight's unsigned quants (0..15 or 0..31) and a the activation block:
//   Q4_0: w = d (q - 8)   -> dot = d * a.d * sum(q * a.qs) - 8 d * a.s
//   Q5_0: w = d (q - 16)  -> dot = d * a.d * sum(q * a.qs) - 16 d * a.s
//   Q4_1, Q5_1: w = d q + m -> dot = d * a.d * sum(q * a.qs) + m * a.s
//   Q8_0: w = d q (signed) -> dot = d * a.d * sum(q * a.qs), via sign tricks: |q| x (a.qs * sign(q)).
// Two accumulators per token (even / odd blocks) hide the FMA latency in the one-token GEMV.
#include "kernels/matmul/avx2_util.h"
#if defined(__x86_64__)
#include "kernels/matmul/avx2_kernels.h"

namespace seek::avx2 {

namespace {

// A weight block unpacked to 32 bytes: unsigned quants (or signed ones for Q8_0), scale and the coefficient
// of the activation block sum.
struct WeightBlock {
  __m256i q;
  float d;
  float c;
};

inline float Half(uint16_t h) { return _cvtsh_ss(h); }

struct Q4_0 {
  static constexpr bool kSigned = false;
  static constexpr size_t kBytes = sizeof(BlockQ4_0);
  static WeightBlock Load(const uint8_t* p) {
    const auto* b = reinterpret_cast<const BlockQ4_0*>(p);
    const float d = Half(b->d);
    return {UnpackNibbles16(b->qs), d, -8.0f * d};
  }
};

struct Q4_1 {
  static constexpr bool kSigned = false;
  static constexpr size_t kBytes = sizeof(BlockQ4_1);
  static WeightBlock Load(const uint8_t* p) {
    const auto* b = reinterpret_cast<const BlockQ4_1*>(p);
    return {UnpackNibbles16(b->qs), Half(b->d), Half(b->m)};
  }
};

// Q5 quants: the low nibble | 0x10 where bit j of qh is set.
inline __m256i UnpackQ5(const uint8_t* qs, const uint8_t* qh) {
  const __m256i high = _mm256_and_si256(ExpandBits32(LoadU32(qh)), _mm256_set1_epi8(0x10));
  return _mm256_or_si256(UnpackNibbles16(qs), high);
}

struct Q5_0 {
  static constexpr bool kSigned = false;
  static constexpr size_t kBytes = sizeof(BlockQ5_0);
  static WeightBlock Load(const uint8_t* p) {
    const auto* b = reinterpret_cast<const BlockQ5_0*>(p);
    const float d = Half(b->d);
    return {UnpackQ5(b->qs, b->qh), d, -16.0f * d};
  }
};

struct Q5_1 {
  static constexpr bool kSigned = false;
  static constexpr size_t kBytes = sizeof(BlockQ5_1);
  static WeightBlock Load(const uint8_t* p) {
    const auto* b = reinterpret_cast<const BlockQ5_1*>(p);
    return {UnpackQ5(b->qs, b->qh), Half(b->d), Half(b->m)};
  }
};

struct Q8_0 {
  static constexpr bool kSigned = true;
  static constexpr size_t kBytes = sizeof(BlockQ8_0);
  static WeightBlock Load(const uint8_t* p) {
    const auto* b = reinterpret_cast<const BlockQ8_0*>(p);
    return {Load256(b->qs), Half(b->d), 0.0f};
  }
};

// Adds block `blk` of the weight row to token accumulators acc (vector) and corr (scalar).
template <class Type, int NT>
__attribute__((always_inline)) inline void AccumulateBlock(const uint8_t* w, const uint8_t* act,
                                                           size_t act_stride, int64_t blk, __m256 (&acc)[NT],
                                                           float (&corr)[NT]) {
  const WeightBlock wb = Type::Load(w + blk * Type::kBytes);
  __m256i wabs;
  if constexpr (Type::kSigned) wabs = _mm256_sign_epi8(wb.q, wb.q);
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) {
    const ActQ8x32& a = reinterpret_cast<const ActQ8x32*>(act + t * act_stride)[blk];
    const __m256i x = Load256(a.qs);
    __m256i p;
    if constexpr (Type::kSigned) {
      p = DotU8I8(wabs, _mm256_sign_epi8(x, wb.q));
    } else {
      p = DotU8I8(wb.q, x);
      corr[t] += wb.c * a.s;
    }
    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(wb.d * a.d), acc[t]);
  }
}

template <class Type, int NT>
void DotRow(const uint8_t* w, const uint8_t* act, size_t act_stride, int64_t n_in, float* y, int64_t y_stride) {
  const int64_t n_blocks = n_in / 32;
  __m256 acc0[NT], acc1[NT];
  float corr0[NT], corr1[NT];
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) {
    acc0[t] = acc1[t] = _mm256_setzero_ps();
    corr0[t] = corr1[t] = 0.0f;
  }
  int64_t b = 0;
  for (; b + 1 < n_blocks; b += 2) {
    PrefetchAhead<2 * Type::kBytes>(w + b * Type::kBytes);
    AccumulateBlock<Type, NT>(w, act, act_stride, b, acc0, corr0);
    AccumulateBlock<Type, NT>(w, act, act_stride, b + 1, acc1, corr1);
  }
  if (b < n_blocks) AccumulateBlock<Type, NT>(w, act, act_stride, b, acc0, corr0);
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) y[t * y_stride] = HSum(_mm256_add_ps(acc0[t], acc1[t])) + (corr0[t] + corr1[t]);
}

template <class Type>
RowKernelSet MakeSet() {
  return {ActKind::kQ8x32, QuantizeActQ8x32Avx2Fn,
          {DotRow<Type, 1>, DotRow<Type, 2>, DotRow<Type, 3>, DotRow<Type, 4>}, RunRows1<DotRow<Type, 1>>};
}

}  // namespace

const RowKernelSet* FindLegacyRowKernels(DType t) {
  static const RowKernelSet kQ4_0 = MakeSet<Q4_0>(), kQ4_1 = MakeSet<Q4_1>(), kQ5_0 = MakeSet<Q5_0>(),
                            kQ5_1 = MakeSet<Q5_1>(), kQ8_0 = MakeSet<Q8_0>();
  switch (t) {
    case DType::kQ4_0: return &kQ4_0;
    case DType::kQ4_1: return &kQ4_1;
    case DType::kQ5_0: return &kQ5_0;
    case DType::kQ5_1: return &kQ5_1;
    case DType::kQ8_0: return &kQ8_0;
    default: return nullptr;
  }
}

}  // namespace seek::avx2

#endif  // defined(__x86_64__)

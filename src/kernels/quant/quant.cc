// Dispatch for the scalar reference quantization API (quant.h), plus the plain element types F32, F16, BF16
// and F8_E4M3. Every type is handled as blocks: plain types use chunks of kPlainChunk elements so that
// DotRowF32 has one code path (dequantize a block into a stack buffer, then dot it in fp32).
#include "kernels/quant/quant.h"

#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant_impl.h"

namespace seek {
namespace {

using quant::DequantBlockFn;
using quant::QuantBlockFn;

constexpr int kPlainChunk = 256;  // elements per pseudo-block of F32/F16/BF16/F8 (any row length works)

// float8 e4m3fn (OCP FP8 spec; DeepSeek-V3 checkpoints): 1 sign, 4 exponent (bias 7), 3 mantissa bits. No
// infinities; S.1111.111 is NaN; exponent 0 is subnormal (m / 8 * 2^-6). Every value is exact in fp32.
float F8E4M3ToF32(uint8_t v) {
  const uint32_t sign = uint32_t(v & 0x80) << 24;
  const uint32_t exp = (v >> 3) & 0x0f, mant = v & 0x07;
  if (exp == 0x0f && mant == 0x07) return Bits2F32(sign | 0x7fc00000u);
  if (exp == 0) {
    const float mag = static_cast<float>(mant) * (1.0f / 512.0f);  // m / 8 * 2^-6
    return sign ? -mag : mag;
  }
  return Bits2F32(sign | ((exp + 127 - 7) << 23) | (mant << 20));
}

template <typename T, float (*Convert)(T)>
void DequantPlain(const void* x, float* y, int64_t n) {
  const T* p = static_cast<const T*>(x);
  for (int64_t i = 0; i < n; ++i) y[i] = Convert(p[i]);
}

struct QuantType {
  DType type;
  int block_size;
  size_t type_size;
  DequantBlockFn dequant;
  QuantBlockFn quant;  // nullptr: QuantizeRow unsupported
};

// Block types only; plain types are handled by the switches below.
constexpr QuantType kQuantTypes[] = {
    {DType::kQ4_0, kQK4_0, sizeof(BlockQ4_0), quant::DequantQ4_0, quant::QuantQ4_0},
    {DType::kQ4_1, kQK4_1, sizeof(BlockQ4_1), quant::DequantQ4_1, quant::QuantQ4_1},
    {DType::kQ5_0, kQK5_0, sizeof(BlockQ5_0), quant::DequantQ5_0, quant::QuantQ5_0},
    {DType::kQ5_1, kQK5_1, sizeof(BlockQ5_1), quant::DequantQ5_1, quant::QuantQ5_1},
    {DType::kQ8_0, kQK8_0, sizeof(BlockQ8_0), quant::DequantQ8_0, quant::QuantQ8_0},
    {DType::kQ8_1, kQK8_1, sizeof(BlockQ8_1), quant::DequantQ8_1, quant::QuantQ8_1},
    {DType::kQ2_K, kQK_K, sizeof(BlockQ2_K), quant::DequantQ2_K, quant::QuantQ2_K},
    {DType::kQ3_K, kQK_K, sizeof(BlockQ3_K), quant::DequantQ3_K, quant::QuantQ3_K},
    {DType::kQ4_K, kQK_K, sizeof(BlockQ4_K), quant::DequantQ4_K, quant::QuantQ4_K},
    {DType::kQ5_K, kQK_K, sizeof(BlockQ5_K), quant::DequantQ5_K, quant::QuantQ5_K},
    {DType::kQ6_K, kQK_K, sizeof(BlockQ6_K), quant::DequantQ6_K, quant::QuantQ6_K},
    {DType::kQ8_K, kQK_K, sizeof(BlockQ8_K), quant::DequantQ8_K, quant::QuantQ8_K},
};

const QuantType* FindQuantType(DType t) {
  for (const QuantType& q : kQuantTypes)
    if (q.type == t) return &q;
  return nullptr;
}

bool IsPlain(DType t) {
  return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16 || t == DType::kF8_E4M3;
}

// Dequantizes elements [0, n) of a plain row that starts at x (already offset by the caller).
void DequantPlainRange(DType t, const void* x, float* y, int64_t n) {
  switch (t) {
    case DType::kF32:
      std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::kF16:
      DequantPlain<uint16_t, FP16ToF32>(x, y, n);
      return;
    case DType::kBF16:
      DequantPlain<uint16_t, BF16ToF32>(x, y, n);
      return;
    case DType::kF8_E4M3:
      DequantPlain<uint8_t, F8E4M3ToF32>(x, y, n);
      return;
    default:
      SEEK_CHECK(false);
  }
}

void CheckBlockMultiple(DType t, int64_t n) {
  SEEK_CHECK(n >= 0);
  SEEK_CHECK(n % Traits(t).block_size == 0);
}

}  // namespace

bool CanDequantize(DType t) {
  return IsPlain(t) || FindQuantType(t) != nullptr;
}

bool CanQuantize(DType t) {
  if (t == DType::kF32 || t == DType::kF16 || t == DType::kBF16) return true;
  const QuantType* q = FindQuantType(t);
  return q != nullptr && q->quant != nullptr;
}

void DequantizeRow(DType t, const void* x, float* y, int64_t n) {
  CheckBlockMultiple(t, n);
  if (IsPlain(t)) return DequantPlainRange(t, x, y, n);
  const QuantType* q = FindQuantType(t);
  SEEK_CHECK(q != nullptr);
  const auto* src = static_cast<const uint8_t*>(x);
  for (int64_t i = 0; i < n / q->block_size; ++i) q->dequant(src + i * q->type_size, y + i * q->block_size);
}

float DotRowF32(DType t, const void* w, const float* x, int64_t n) {
  CheckBlockMultiple(t, n);
  const auto* src = static_cast<const uint8_t*>(w);
  float buf[kPlainChunk > kQK_K ? kPlainChunk : kQK_K];
  float sum = 0.0f;
  if (IsPlain(t)) {
    const size_t elem = Traits(t).type_size;
    for (int64_t i = 0; i < n; i += kPlainChunk) {
      const int64_t len = n - i < kPlainChunk ? n - i : kPlainChunk;
      DequantPlainRange(t, src + i * elem, buf, len);
      float block_sum = 0.0f;
      for (int64_t j = 0; j < len; ++j) block_sum += buf[j] * x[i + j];
      sum += block_sum;
    }
    return sum;
  }
  const QuantType* q = FindQuantType(t);
  SEEK_CHECK(q != nullptr);
  for (int64_t i = 0; i < n / q->block_size; ++i) {
    q->dequant(src + i * q->type_size, buf);
    const float* xb = x + i * q->block_size;
    float block_sum = 0.0f;
    for (int j = 0; j < q->block_size; ++j) block_sum += buf[j] * xb[j];
    sum += block_sum;
  }
  return sum;
}

void QuantizeRow(DType t, const float* x, void* y, int64_t n) {
  CheckBlockMultiple(t, n);
  switch (t) {
    case DType::kF32:
      std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::kF16: {
      auto* out = static_cast<uint16_t*>(y);
      for (int64_t i = 0; i < n; ++i) out[i] = F32ToFP16(x[i]);
      return;
    }
    case DType::kBF16: {
      auto* out = static_cast<uint16_t*>(y);
      for (int64_t i = 0; i < n; ++i) out[i] = F32ToBF16(x[i]);
      return;
    }
    default:
      break;
  }
  const QuantType* q = FindQuantType(t);
  SEEK_CHECK(q != nullptr && q->quant != nullptr);
  auto* dst = static_cast<uint8_t*>(y);
  for (int64_t i = 0; i < n / q->block_size; ++i) q->quant(x + i * q->block_size, dst + i * q->type_size);
}

}  // namespace seek

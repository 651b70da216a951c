// IEEE fp16 and bfloat16 <-> fp32 conversion, bit-exact and portable (no F16C needed).
// BF16 rounding is round-to-nearest-even, as torch and llama.cpp do; NaN stays NaN.
#pragma once
#include <cstdint>
#include <cstring>

namespace seek {

inline float Bits2F32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t F322Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float FP16ToF32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0) {
    if (mant == 0) return Bits2F32(sign);
    // Subnormal: normalise.
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400) == 0);
    mant &= 0x3ff;
    return Bits2F32(sign | (uint32_t(127 - 15 - e) << 23) | (mant << 13));
  }
  if (exp == 31) return Bits2F32(sign | 0x7f800000u | (mant << 13));
  return Bits2F32(sign | ((exp + 127 - 15) << 23) | (mant << 13));
}

inline uint16_t F32ToFP16(float f) {
  uint32_t x = F322Bits(f);
  const uint32_t sign = (x >> 16) & 0x8000;
  x &= 0x7fffffff;
  if (x >= 0x7f800000u) return uint16_t(sign | 0x7c00 | (x > 0x7f800000u ? 0x200 : 0));  // inf / nan
  if (x >= 0x477ff000u) return uint16_t(sign | 0x7c00);                                     // overflow -> inf
  if (x < 0x38800000u) {                                                                    // subnormal or zero
    if (x < 0x33000000u) return uint16_t(sign);
    const uint32_t e = x >> 23;
    uint32_t m = (x & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e;  // 14 + (113 - e)
    uint32_t r = m >> (shift);
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) ++r;
    return uint16_t(sign | r);
  }
  uint32_t r = x + 0xc8000000u;  // rebias exponent (-112 << 23)
  r += 0xfff + ((r >> 13) & 1);  // round to nearest even
  return uint16_t(sign | (r >> 13));
}

inline float BF16ToF32(uint16_t b) { return Bits2F32(uint32_t(b) << 16); }

inline uint16_t F32ToBF16(float f) {
  uint32_t x = F322Bits(f);
  if ((x & 0x7fffffff) > 0x7f800000u) return uint16_t((x >> 16) | 0x40);  // quiet NaN
  x += 0x7fff + ((x >> 16) & 1);
  return uint16_t(x >> 16);
}

}  // namespace seek

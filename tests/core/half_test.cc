#include "core/half.h"

#include <cmath>

#include <gtest/gtest.h>

#include "core/dtype.h"

namespace seek {
namespace {

TEST(Half, RoundTripsEveryFp16) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = FP16ToF32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(F32ToFP16(f), h) << std::hex << h;
  }
}

TEST(Half, KnownValues) {
  EXPECT_EQ(FP16ToF32(0x3c00), 1.0f);
  EXPECT_EQ(FP16ToF32(0xc000), -2.0f);
  EXPECT_EQ(FP16ToF32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(F32ToFP16(65520.0f), 0x7c00);  // rounds to inf
  EXPECT_EQ(F32ToFP16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
  EXPECT_EQ(BF16ToF32(0x3f80), 1.0f);
  EXPECT_EQ(F32ToBF16(1.00390625f), 0x3f80);  // tie to even
}

TEST(DType, TraitsMatchGgml) {
  EXPECT_EQ(Traits(DType::kQ4_K).type_size, 144u);
  EXPECT_EQ(*RowBytes(DType::kQ4_0, 64), 36u);
  EXPECT_FALSE(RowBytes(DType::kQ4_0, 33).has_value());
  EXPECT_EQ(*DTypeFromName("Q6_K"), DType::kQ6_K);
  EXPECT_FALSE(FindDTypeTraits(4).has_value());
}

}  // namespace
}  // namespace seek

// Tests of the scalar reference quantization (kernels/quant) against gguf-py's numpy implementation, through
// the fixture made by tools/make_quant_fixture.py (see that script for which references are gguf-py, torch
// or small ports). Error budgets:
//  - DequantizeRow: bit-identical to the reference (every type; see quant_legacy.cc / quant_k.cc for why no
//    ulp slack is needed: all products are exact in fp32 and at most one rounding follows).
//  - QuantizeRow: identical bytes, except Q4_0, whose scale search (quant_legacy.cc FitSymmetricBlock)
//    starts from the reference's round-to-nearest and keeps it unless it finds a smaller weighted error: there
//    every block's weighted squared error (w = sqrt(mean(x^2) + x^2)) must be <= that of gguf-py's bytes (both
//    decoded by the bit-exact dequantizer), and the bytes must equal gguf-py's wherever its error is not
//    finite.
//  - DotRowF32: |dot - exact| <= kDotRelBudget * sum_i |w_i x_i| against a double-precision dot of the
//    dequantized row (fp32 accumulation of n <= 1024 terms, block by block).
#include "kernels/quant/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/quant/blocks.h"
#include "test_util.h"

namespace seek {
namespace {

constexpr double kDotRelBudget = 1e-5;

struct Record {
  int kind;  // 0: dequantize bytes -> values, 1: quantize values -> bytes
  DType type;
  std::vector<uint8_t> bytes;
  std::vector<float> values;
};

uint32_t ReadU32(const std::string& s, size_t* pos) {
  SEEK_CHECK(*pos + 4 <= s.size());
  uint32_t v;
  std::memcpy(&v, s.data() + *pos, 4);
  *pos += 4;
  return v;
}

std::vector<Record> LoadFixture() {
  const std::string path = test::TestdataDir() + "/quant/quant_fixture.bin";
  const std::string s = test::ReadFileToString(path);
  SEEK_CHECK(s.size() >= 12 && s.compare(0, 4, "SQFX") == 0);
  size_t pos = 4;
  SEEK_CHECK(ReadU32(s, &pos) == 1);
  const uint32_t n_records = ReadU32(s, &pos);
  std::vector<Record> records;
  for (uint32_t r = 0; r < n_records; ++r) {
    Record rec;
    rec.kind = static_cast<int>(ReadU32(s, &pos));
    rec.type = static_cast<DType>(ReadU32(s, &pos));
    const uint32_t n = ReadU32(s, &pos), nbytes = ReadU32(s, &pos);
    SEEK_CHECK(pos + nbytes + 4ull * n <= s.size());
    rec.bytes.assign(s.begin() + pos, s.begin() + pos + nbytes);
    pos += nbytes;
    rec.values.resize(n);
    std::memcpy(rec.values.data(), s.data() + pos, 4ull * n);
    pos += 4ull * n;
    records.push_back(std::move(rec));
  }
  SEEK_CHECK(pos == s.size());
  return records;
}

const std::vector<Record>& Fixture() {
  static const std::vector<Record> records = LoadFixture();
  return records;
}

bool SameFloat(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return F322Bits(a) == F322Bits(b);
}

TEST(Quant, BlockSizesMatchDTypeTable) {
  EXPECT_EQ(Traits(DType::kQ4_0).type_size, sizeof(BlockQ4_0));
  EXPECT_EQ(Traits(DType::kQ4_1).type_size, sizeof(BlockQ4_1));
  EXPECT_EQ(Traits(DType::kQ5_0).type_size, sizeof(BlockQ5_0));
  EXPECT_EQ(Traits(DType::kQ5_1).type_size, sizeof(BlockQ5_1));
  EXPECT_EQ(Traits(DType::kQ8_0).type_size, sizeof(BlockQ8_0));
  EXPECT_EQ(Traits(DType::kQ8_1).type_size, sizeof(BlockQ8_1));
  EXPECT_EQ(Traits(DType::kQ2_K).type_size, sizeof(BlockQ2_K));
  EXPECT_EQ(Traits(DType::kQ3_K).type_size, sizeof(BlockQ3_K));
  EXPECT_EQ(Traits(DType::kQ4_K).type_size, sizeof(BlockQ4_K));
  EXPECT_EQ(Traits(DType::kQ5_K).type_size, sizeof(BlockQ5_K));
  EXPECT_EQ(Traits(DType::kQ6_K).type_size, sizeof(BlockQ6_K));
  EXPECT_EQ(Traits(DType::kQ8_K).type_size, sizeof(BlockQ8_K));
  EXPECT_EQ(Traits(DType::kQ8_K).block_size, kQK_K);
  EXPECT_EQ(Traits(DType::kQ4_0).block_size, kQK4_0);
}

TEST(Quant, SupportedTypes) {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kF8_E4M3, DType::kQ4_0, DType::kQ4_1,
                  DType::kQ5_0, DType::kQ5_1, DType::kQ8_0, DType::kQ8_1, DType::kQ2_K, DType::kQ3_K,
                  DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kQ8_K})
    EXPECT_TRUE(CanDequantize(t)) << DTypeName(t);
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0,
                  DType::kQ5_1, DType::kQ8_0, DType::kQ8_1, DType::kQ8_K})
    EXPECT_TRUE(CanQuantize(t)) << DTypeName(t);
  EXPECT_FALSE(CanDequantize(DType::kI32));
  EXPECT_FALSE(CanQuantize(DType::kF8_E4M3));
}

TEST(Quant, FixtureCoversEveryType) {
  int n_dequant = 0, n_quant = 0;
  for (const Record& r : Fixture()) (r.kind == 0 ? n_dequant : n_quant)++;
  EXPECT_EQ(n_dequant, 14);  // 12 block types + F8_E4M3 + BF16
  EXPECT_EQ(n_quant, 11);    // 9 types + F16/BF16 specials
}

TEST(Quant, DequantizeMatchesGgufPyBitForBit) {
  for (const Record& r : Fixture()) {
    if (r.kind != 0) continue;
    const int64_t n = static_cast<int64_t>(r.values.size());
    ASSERT_EQ(RowBytes(r.type, n).value_or(0), r.bytes.size()) << DTypeName(r.type);
    std::vector<float> y(r.values.size(), -12345.0f);
    DequantizeRow(r.type, r.bytes.data(), y.data(), n);
    int mismatches = 0;
    for (int64_t i = 0; i < n && mismatches < 5; ++i) {
      if (!SameFloat(y[i], r.values[i])) {
        ++mismatches;
        ADD_FAILURE() << DTypeName(r.type) << " element " << i << ": got " << y[i] << " want " << r.values[i];
      }
    }
  }
}

bool HasScaleSearch(DType t) {
  return t == DType::kQ4_0;
}

TEST(Quant, QuantizeMatchesGgufPyBytes) {
  for (const Record& r : Fixture()) {
    if (r.kind != 1 || HasScaleSearch(r.type)) continue;
    const int64_t n = static_cast<int64_t>(r.values.size());
    ASSERT_EQ(RowBytes(r.type, n).value_or(0), r.bytes.size()) << DTypeName(r.type);
    std::vector<uint8_t> out(r.bytes.size(), 0xcd);
    QuantizeRow(r.type, r.values.data(), out.data(), n);
    size_t first_diff = out.size();
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i] != r.bytes[i]) {
        first_diff = i;
        break;
      }
    EXPECT_EQ(first_diff, out.size()) << DTypeName(r.type) << ": first differing byte " << first_diff
                                      << " (block " << first_diff / Traits(r.type).type_size << ")";
  }
}

// Q4_0: block by block, never a larger weighted squared error than gguf-py's round-to-nearest bytes.
// The weights are the search's criterion (quant_legacy.cc FitSymmetricBlock), recomputed here.
TEST(Quant, ScaleSearchNeverWorseThanGgufPy) {
  int n_records = 0, n_blocks = 0, n_improved = 0;
  for (const Record& r : Fixture()) {
    if (r.kind != 1 || !HasScaleSearch(r.type)) continue;
    ++n_records;
    const int64_t n = static_cast<int64_t>(r.values.size());
    const int64_t bs = Traits(r.type).block_size;
    const size_t block_bytes = Traits(r.type).type_size;
    std::vector<uint8_t> out(r.bytes.size());
    QuantizeRow(r.type, r.values.data(), out.data(), n);
    std::vector<float> ours(n), ref(n);
    DequantizeRow(r.type, out.data(), ours.data(), n);
    DequantizeRow(r.type, r.bytes.data(), ref.data(), n);
    for (int64_t b = 0; b < n / bs; ++b) {
      double mean_x2 = 0, e_ours = 0, e_ref = 0;
      for (int64_t j = b * bs; j < (b + 1) * bs; ++j)
        mean_x2 += static_cast<double>(r.values[j]) * r.values[j] / static_cast<double>(bs);
      for (int64_t j = b * bs; j < (b + 1) * bs; ++j) {
        const double x = r.values[j], w = std::sqrt(mean_x2 + x * x);
        e_ours += w * (x - ours[j]) * (x - ours[j]);
        e_ref += w * (x - ref[j]) * (x - ref[j]);
      }
      ++n_blocks;
      const bool same_bytes = std::memcmp(out.data() + b * block_bytes, r.bytes.data() + b * block_bytes,
                                          block_bytes) == 0;
      if (!std::isfinite(e_ref)) {
        EXPECT_TRUE(same_bytes) << DTypeName(r.type) << " block " << b << ": non-finite input must keep RTN";
        continue;
      }
      EXPECT_LE(e_ours, e_ref * (1 + 1e-12)) << DTypeName(r.type) << " block " << b;
      n_improved += !same_bytes;
    }
  }
  EXPECT_GE(n_records, 1);
  std::printf("[accuracy] Q4_0 scale search: %d of %d fixture blocks improved on gguf-py's RTN\n",
              n_improved, n_blocks);
  EXPECT_GT(n_improved, 0);
}

// The search must pay off on realistic data: relative RMSE on N(0, 1) and Student-t(3) rows against named
// budgets set between the measured figures and round-to-nearest's (N(0, 1) / Student-t(3); measured: Q4_0
// 0.0825 / 0.1248; GGML's round-to-nearest, numpy over 6.4M values: Q4_0 0.0860 / 0.1267), so losing the
// search fails. (The search minimises a weighted error, so
// plain RMSE improves less than it could: see quant_legacy.cc for why.)
TEST(Quant, ScaleSearchBeatsRoundToNearest) {
  constexpr int64_t n = 1 << 16;
  const struct {
    DType type;
    double gaussian, heavy;
  } cases[] = {{DType::kQ4_0, 0.0840, 0.1258}};
  for (const bool heavy : {false, true}) {
    std::mt19937 rng(heavy ? 11 : 7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::student_t_distribution<float> t3(3.0f);
    std::vector<float> x(n), y(n);
    for (float& v : x) v = heavy ? t3(rng) : normal(rng);
    for (const auto& c : cases) {
      std::vector<uint8_t> q(RowBytes(c.type, n).value());
      QuantizeRow(c.type, x.data(), q.data(), n);
      DequantizeRow(c.type, q.data(), y.data(), n);
      double err = 0, ref = 0;
      for (int64_t i = 0; i < n; ++i) {
        err += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
        ref += static_cast<double>(x[i]) * x[i];
      }
      const double rel = std::sqrt(err / ref);
      std::printf("[accuracy] %s %s rel. RMSE %.4f\n", DTypeName(c.type), heavy ? "student-t(3)" : "N(0,1)", rel);
      EXPECT_LE(rel, heavy ? c.heavy : c.gaussian) << DTypeName(c.type);
    }
  }
}

// DotRowF32 against a double dot of the (already verified) dequantized row.
TEST(Quant, DotRowF32WithinBudget) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const Record& r : Fixture()) {
    if (r.kind != 0) continue;
    const int64_t n = static_cast<int64_t>(r.values.size());
    std::vector<float> x(r.values.size());
    for (float& v : x) v = normal(rng);
    double exact = 0.0, magnitude = 0.0;
    bool finite = true;
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(r.values[i])) finite = false;
      exact += static_cast<double>(r.values[i]) * x[i];
      magnitude += std::fabs(static_cast<double>(r.values[i]) * x[i]);
    }
    if (!finite) continue;  // random BF16 / F8 bit patterns include NaN and inf
    const float got = DotRowF32(r.type, r.bytes.data(), x.data(), n);
    EXPECT_LE(std::fabs(got - exact), kDotRelBudget * magnitude) << DTypeName(r.type);
  }
}

TEST(Quant, DotRowF32PlainTypesAnyLength) {
  std::vector<float> w(1000), x(1000);
  for (int i = 0; i < 1000; ++i) {
    w[i] = std::sin(0.1f * i);
    x[i] = std::cos(0.37f * i);
  }
  double exact = 0.0, magnitude = 0.0;
  for (int i = 0; i < 1000; ++i) {
    exact += static_cast<double>(w[i]) * x[i];
    magnitude += std::fabs(static_cast<double>(w[i]) * x[i]);
  }
  EXPECT_LE(std::fabs(DotRowF32(DType::kF32, w.data(), x.data(), 1000) - exact), kDotRelBudget * magnitude);
  std::vector<uint16_t> h(1000);
  QuantizeRow(DType::kF16, w.data(), h.data(), 1000);
  // fp16 storage adds a relative error of 2^-11 per weight.
  EXPECT_LE(std::fabs(DotRowF32(DType::kF16, h.data(), x.data(), 1000) - exact),
            (kDotRelBudget + std::ldexp(1.0, -11)) * magnitude);
}

// Every fp16 bit pattern: DequantizeRow equals m * 2^(e-25) computed independently, and QuantizeRow maps
// it back to the same bits (NaNs excepted: they only need to stay NaN).
TEST(Quant, F16AllBitPatterns) {
  std::vector<uint16_t> bits(65536);
  for (uint32_t i = 0; i < 65536; ++i) bits[i] = static_cast<uint16_t>(i);
  std::vector<float> y(65536);
  DequantizeRow(DType::kF16, bits.data(), y.data(), 65536);
  std::vector<uint16_t> back(65536);
  QuantizeRow(DType::kF16, y.data(), back.data(), 65536);
  for (uint32_t i = 0; i < 65536; ++i) {
    const int e = (i >> 10) & 0x1f, m = i & 0x3ff;
    const float sign = (i & 0x8000) ? -1.0f : 1.0f;
    if (e == 31) {
      EXPECT_TRUE(m ? std::isnan(y[i]) : y[i] == sign * INFINITY) << i;
      if (m) {
        EXPECT_TRUE((back[i] & 0x7c00) == 0x7c00 && (back[i] & 0x3ff) != 0) << i;
        continue;
      }
    } else {
      const float want = sign * std::ldexp(static_cast<float>(e ? (m | 0x400) : m), (e ? e : 1) - 25);
      EXPECT_TRUE(SameFloat(y[i], want)) << i;
    }
    EXPECT_EQ(back[i], bits[i]) << i;
  }
}

TEST(Quant, BF16AllBitPatterns) {
  std::vector<uint16_t> bits(65536);
  for (uint32_t i = 0; i < 65536; ++i) bits[i] = static_cast<uint16_t>(i);
  std::vector<float> y(65536);
  DequantizeRow(DType::kBF16, bits.data(), y.data(), 65536);
  std::vector<uint16_t> back(65536);
  QuantizeRow(DType::kBF16, y.data(), back.data(), 65536);
  for (uint32_t i = 0; i < 65536; ++i) {
    EXPECT_EQ(F322Bits(y[i]), i << 16) << i;
    if (std::isnan(y[i]))
      EXPECT_TRUE(std::isnan(BF16ToF32(back[i]))) << i;
    else
      EXPECT_EQ(back[i], bits[i]) << i;
  }
}

// The fixture already holds torch's values for all 256 patterns; spot-check the named corners too.
TEST(Quant, F8E4M3Corners) {
  const uint8_t bits[] = {0x00, 0x80, 0x01, 0x07, 0x08, 0x38, 0x7e, 0xfe, 0x7f, 0xff};
  float y[10];
  DequantizeRow(DType::kF8_E4M3, bits, y, 10);
  EXPECT_TRUE(SameFloat(y[0], 0.0f));
  EXPECT_TRUE(SameFloat(y[1], -0.0f));
  EXPECT_EQ(y[2], std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(y[3], 7 * std::ldexp(1.0f, -9));
  EXPECT_EQ(y[4], std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_EQ(y[5], 1.0f);
  EXPECT_EQ(y[6], 448.0f);  // largest finite: no infinities in e4m3fn
  EXPECT_EQ(y[7], -448.0f);
  EXPECT_TRUE(std::isnan(y[8]));
  EXPECT_TRUE(std::isnan(y[9]));
}

// Round trip of smooth data through each quantizer stays within half a quantization step (Q4_0/Q5_0 also
// lose one step at the clamped positive end), and Q8_K's bsums are the sums of its quants.
TEST(Quant, RoundTripErrorAndQ8KSums) {
  constexpr int64_t n = 512;
  std::vector<float> x(n);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : x) v = normal(rng);
  const struct {
    DType type;
    double max_err;  // in units of the block's max |x|
  } cases[] = {{DType::kQ4_0, 1.0 / 8},          {DType::kQ4_1, 1.0 / 15},
               {DType::kQ5_0, 1.0 / 16},         {DType::kQ5_1, 1.0 / 31},
               {DType::kQ8_0, 0.5 / 127 + 1e-3}, {DType::kQ8_1, 0.5 / 127 + 1e-3},
               {DType::kQ8_K, 0.5 / 127 + 1e-6}};
  for (const auto& c : cases) {
    std::vector<uint8_t> q(RowBytes(c.type, n).value());
    std::vector<float> y(n);
    QuantizeRow(c.type, x.data(), q.data(), n);
    DequantizeRow(c.type, q.data(), y.data(), n);
    const int64_t bs = Traits(c.type).block_size;
    for (int64_t b = 0; b < n / bs; ++b) {
      float amax = 0.0f;
      for (int64_t j = 0; j < bs; ++j) amax = std::max(amax, std::fabs(x[b * bs + j]));
      for (int64_t j = 0; j < bs; ++j)
        ASSERT_LE(std::fabs(x[b * bs + j] - y[b * bs + j]), c.max_err * 2 * amax * 1.01)
            << DTypeName(c.type) << " at " << b * bs + j;
    }
  }
  std::vector<BlockQ8_K> q8k(n / kQK_K);
  QuantizeRow(DType::kQ8_K, x.data(), q8k.data(), n);
  for (const BlockQ8_K& b : q8k)
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += b.qs[16 * g + j];
      EXPECT_EQ(b.bsums[g], sum);
    }
}

}  // namespace
}  // namespace seek

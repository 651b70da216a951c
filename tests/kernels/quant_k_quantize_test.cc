// Round-trip tests of the K-quant quantizers (kernels/quant/quant_k_quantize.cc). gguf-py 0.17 cannot
// quantize K-quants, so bytes are not compared with a reference; instead quantize -> DequantizeRow (which is
// bit-exact vs gguf-py's independent dequantizer, see quant_test.cc) must stay within a named relative-RMSE
// budget per type, and must beat plain round-to-nearest with the same layout (the point of the scale search).
// tools/check_quantized_gguf.py repeats the budget check with gguf-py's dequantizer on a whole quantized
// GGUF.
//
// Budgets (relative RMSE = rms(x - dequant(quant(x))) / rms(x), N(0,1) data, 64 K elements), set ~10-15%
// above measured values so that a regression in the search (e.g. losing the least-squares refit) fails:
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/half.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"

namespace seek {
namespace {

struct Budget {
  DType type;
  double gaussian;  // relative RMSE budget on N(0, 1) rows
  double heavy;     // relative RMSE budget on Student-t(3) rows (outliers)
};
// Measured (this implementation): Q2_K 0.298 / 0.346, Q3_K 0.154 / 0.190, Q4_K 0.0724 / 0.0920,
// Q5_K 0.0363 / 0.0470, Q6_K 0.0177 / 0.0261 (gaussian / student-t).
constexpr Budget kBudgets[] = {
    {DType::kQ2_K, 0.33, 0.38},   {DType::kQ3_K, 0.17, 0.21},    {DType::kQ4_K, 0.080, 0.101},
    {DType::kQ5_K, 0.040, 0.052}, {DType::kQ6_K, 0.0195, 0.029},
};

std::vector<float> Rows(int64_t n, bool heavy, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::student_t_distribution<float> t3(3.0f);
  std::vector<float> x(n);
  for (float& v : x) v = heavy ? t3(rng) : normal(rng);
  return x;
}

double RelRmse(DType t, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(RowBytes(t, n).value());
  std::vector<float> y(n);
  QuantizeRow(t, x.data(), q.data(), n);
  DequantizeRow(t, q.data(), y.data(), n);
  double err = 0, ref = 0;
  for (int64_t i = 0; i < n; ++i) {
    err += (x[i] - y[i]) * (double)(x[i] - y[i]);
    ref += x[i] * (double)x[i];
  }
  return std::sqrt(err / ref);
}

TEST(QuantK, CanQuantizeKTypes) {
  for (const Budget& b : kBudgets) EXPECT_TRUE(CanQuantize(b.type)) << DTypeName(b.type);
}

TEST(QuantK, RoundTripWithinBudget) {
  const std::vector<float> gauss = Rows(1 << 16, false, 11), heavy = Rows(1 << 16, true, 12);
  double prev = 1.0;
  for (const Budget& b : kBudgets) {
    const double eg = RelRmse(b.type, gauss), eh = RelRmse(b.type, heavy);
    std::printf("%-5s rel. RMSE: gaussian %.4f, student-t(3) %.4f\n", DTypeName(b.type), eg, eh);
    EXPECT_LE(eg, b.gaussian) << DTypeName(b.type);
    EXPECT_LE(eh, b.heavy) << DTypeName(b.type);
    EXPECT_LT(eg, prev) << "more bits must mean less error: " << DTypeName(b.type);
    prev = eg;
  }
}

// The search must beat the legacy round-to-nearest types of similar size: Q4_K (4.5 bits/weight) vs Q4_0
// (4.5) and Q5_K (5.5) vs Q5_0 (5.5); Q6_K (6.56) vs Q5_1 (6).
TEST(QuantK, BeatsLegacyTypesOfSimilarSize) {
  const std::vector<float> x = Rows(1 << 15, false, 13);
  EXPECT_LT(RelRmse(DType::kQ4_K, x), RelRmse(DType::kQ4_0, x));
  EXPECT_LT(RelRmse(DType::kQ5_K, x), RelRmse(DType::kQ5_0, x));
  EXPECT_LT(RelRmse(DType::kQ6_K, x), RelRmse(DType::kQ5_1, x));
}

// Edge cases: all zeros, a constant row, a single spike, small (1e-3) and huge (1e4) magnitudes, all-positive
// rows (the affine types must use min 0), and one sub-block of zeros among normal ones. Nothing may be NaN,
// and the error stays within the budget relative to the row's magnitude. Values so small that the fp16
// super-block scale underflows (1e-6) can only be stored as zeros: the result must be no worse than that.
TEST(QuantK, EdgeCases) {
  std::vector<std::vector<float>> rows;
  rows.push_back(std::vector<float>(kQK_K, 0.0f));
  rows.push_back(std::vector<float>(kQK_K, 0.37f));
  rows.push_back(std::vector<float>(kQK_K, -2.5f));
  std::vector<float> spike(kQK_K, 0.0f);
  spike[77] = 5.0f;
  rows.push_back(spike);
  for (float scale : {1e-3f, 1e4f}) {
    std::vector<float> r = Rows(kQK_K, false, 21);
    for (float& v : r) v *= scale;
    rows.push_back(r);
  }
  std::vector<float> pos = Rows(kQK_K, false, 22);
  for (float& v : pos) v = std::fabs(v) + 1.0f;
  rows.push_back(pos);
  std::vector<float> holes = Rows(kQK_K, false, 23);
  for (int i = 32; i < 64; ++i) holes[i] = 0.0f;
  rows.push_back(holes);
  for (const Budget& b : kBudgets) {
    for (size_t r = 0; r < rows.size(); ++r) {
      const std::vector<float>& x = rows[r];
      std::vector<uint8_t> q(Traits(b.type).type_size);
      std::vector<float> y(kQK_K);
      QuantizeRow(b.type, x.data(), q.data(), kQK_K);
      DequantizeRow(b.type, q.data(), y.data(), kQK_K);
      double err = 0, ref = 0, amax = 0;
      for (int i = 0; i < kQK_K; ++i) {
        ASSERT_FALSE(std::isnan(y[i])) << DTypeName(b.type) << " row " << r;
        err += (x[i] - y[i]) * (double)(x[i] - y[i]);
        ref += x[i] * (double)x[i];
        amax = std::max(amax, (double)std::fabs(x[i]));
      }
      if (ref == 0) {
        EXPECT_EQ(err, 0.0) << DTypeName(b.type);
        continue;
      }
      // The budgets are for Gaussian rows; a spike or constant row is measured against its max instead.
      EXPECT_LE(std::sqrt(err / kQK_K), b.gaussian * amax) << DTypeName(b.type) << " row " << r;
    }
  }
}

TEST(QuantK, UnderflowingScalesGiveZerosNotGarbage) {
  std::vector<float> x = Rows(kQK_K, false, 24);
  for (float& v : x) v *= 1e-6f;
  for (const Budget& b : kBudgets) {
    std::vector<uint8_t> q(Traits(b.type).type_size);
    std::vector<float> y(kQK_K);
    QuantizeRow(b.type, x.data(), q.data(), kQK_K);
    DequantizeRow(b.type, q.data(), y.data(), kQK_K);
    double err = 0, ref = 0;
    for (int i = 0; i < kQK_K; ++i) {
      err += (x[i] - y[i]) * (double)(x[i] - y[i]);
      ref += x[i] * (double)x[i];
    }
    EXPECT_LE(err, ref * 1.0001) << DTypeName(b.type);
  }
}

}  // namespace
}  // namespace seek

// Helpers shared by the repacked-layout tests (repack_q5_test.cc, repack_q4k_test.cc).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "kernels/matmul/repack.h"

namespace seek::repack_test {

// A row-layout weight and its kInterleaved8 repack, both owned.
struct RepackedForTest {
  std::vector<uint8_t> rows, packed;
  MatMulWeight plain, inter;
};

inline RepackedForTest RepackForTest(DType t, int64_t n_in, int64_t n_out, std::vector<uint8_t> rows) {
  RepackedForTest p;
  p.rows = std::move(rows);
  p.plain = MatMulWeight{t, p.rows.data(), *RowBytes(t, n_in), n_in, n_out};
  p.packed.resize(RepackedBytes(WeightLayout::kInterleaved8, t, n_in, n_out));
  RepackWeight(p.plain, WeightLayout::kInterleaved8, p.packed.data(), nullptr);
  p.inter = p.plain;
  p.inter.data = p.packed.data();
  p.inter.layout = WeightLayout::kInterleaved8;
  return p;
}

// n activations uniform in [-1, 1] with one outlier (x 20), so one block's quantization step is coarse.
inline std::vector<float> RandomActs(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = u(rng);
  x[size_t(seed % uint32_t(n))] *= 20.0f;  // an outlier
  return x;
}

// Error budget of one output against the fp32 reference: 6 sigma of the activation rounding error (8-bit
// blocks of `block` values, step amax / 127, uniform rounding error) + fp32 rounding (as matmul_test.cc).
inline double ActRoundingBudget(const float* wrow, const float* x, int64_t n_in, int64_t block) {
  double mag = 0, var = 0;
  for (int64_t b = 0; b < n_in; b += block) {
    double amax = 0;
    for (int64_t i = b; i < b + block; ++i) amax = std::max(amax, double(std::fabs(x[i])));
    const double step = amax / 127.0;
    for (int64_t i = b; i < b + block; ++i) {
      mag += std::fabs(double(wrow[i]) * x[i]);
      var += double(wrow[i]) * wrow[i] * step * step / 12.0;
    }
  }
  return 6.0 * std::sqrt(var) + 2e-5 * mag + 1e-6;
}

}  // namespace seek::repack_test

// kernels/ops/activation.h: every table's SwiGLU against the reference (kernels/ref/ops.h), over the whole
// range where silu is not trivially 0 or x, odd lengths (the vector loop's tail), NaN, and the pool split.
#include "kernels/ops/activation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "kernels/dispatch.h"
#include "kernels/ref/ops.h"

namespace seek {
namespace {

// Distance in units in the last place between two finite floats of the same sign (0 when equal).
int64_t UlpDistance(float a, float b) {
  const auto key = [](float x) {
    const int32_t i = std::bit_cast<int32_t>(x);
    return i < 0 ? int64_t(std::numeric_limits<int32_t>::min()) - i : int64_t(i);
  };
  return std::llabs(key(a) - key(b));
}

// Gate values over [-90, 90] (a dense grid, both signs, plus the tails where exp over/underflows) and up
// values around 1 with random signs.
void Inputs(int64_t n, std::vector<float>& gate, std::vector<float>& up) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.5f, 2.0f);
  gate.resize(size_t(n));
  up.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    gate[size_t(i)] = n == 1 ? 0.75f : -90.0f + 180.0f * float(i) / float(n - 1);
    up[size_t(i)] = (rng() & 1 ? 1.0f : -1.0f) * u(rng);
  }
}

// Error budget of a fast SwiGLU against the reference: 8 ulp (~5e-7 relative; the vector exp's float Horner
// steps differ from libm's expf by a few ulp, then 1 + e, the division and the product each round; the worst
// seen over the grid was 5), or 1e-30 absolute where silu(x) underflows towards 0 (x < -87).
constexpr int64_t kMaxUlp = 8;

void ExpectClose(float want, float got, float x) {
  if (std::fabs(want) < 1e-30f) {
    EXPECT_LT(std::fabs(got), 1e-30f) << "x=" << x;
    return;
  }
  EXPECT_LE(UlpDistance(want, got), kMaxUlp) << "x=" << x << " want " << want << " got " << got;
}

TEST(SwiGLU, EveryTableMatchesTheReference) {
  for (const char* name : {"scalar", "avx2"}) {
    const KernelTable* t = FindKernels(name);
    if (!t) continue;
    SCOPED_TRACE(name);
    for (int64_t n : {int64_t(1), int64_t(7), int64_t(8), int64_t(9), int64_t(4099), int64_t(200001)}) {
      std::vector<float> gate, up;
      Inputs(n, gate, up);
      std::vector<float> want = gate, got = gate;
      SwiGLU(want.data(), up.data(), n);
      t->swiglu(got.data(), up.data(), n);
      int64_t worst = 0;
      for (int64_t i = 0; i < n; ++i) {
        ExpectClose(want[size_t(i)], got[size_t(i)], gate[size_t(i)]);
        if (std::fabs(want[size_t(i)]) >= 1e-30f) worst = std::max(worst, UlpDistance(want[size_t(i)], got[size_t(i)]));
      }
      RecordProperty(std::string(name) + "_worst_ulp_n" + std::to_string(n), std::to_string(worst));
    }
  }
}

TEST(SwiGLU, NanStaysNan) {
  for (const char* name : {"scalar", "avx2"}) {
    const KernelTable* t = FindKernels(name);
    if (!t) continue;
    std::vector<float> gate(16, 1.0f), up(16, 1.0f);
    gate[3] = std::numeric_limits<float>::quiet_NaN();
    up[12] = std::numeric_limits<float>::quiet_NaN();
    t->swiglu(gate.data(), up.data(), 16);
    EXPECT_TRUE(std::isnan(gate[3])) << name;
    EXPECT_TRUE(std::isnan(gate[12])) << name;
    EXPECT_FALSE(std::isnan(gate[0])) << name;
  }
}

TEST(SwiGLU, ExtremesSaturate) {
  // silu(x) -> x for large x, -> 0 (from below) for very negative x.
  for (const char* name : {"scalar", "avx2"}) {
    const KernelTable* t = FindKernels(name);
    if (!t) continue;
    std::vector<float> gate = {1e6f, 200.0f, 88.5f, -88.5f, -200.0f, -1e6f, 0.0f, -0.0f, 1e-20f};
    std::vector<float> up(gate.size(), 1.0f);
    const std::vector<float> x = gate;
    t->swiglu(gate.data(), up.data(), int64_t(gate.size()));
    EXPECT_EQ(gate[0], 1e6f) << name;
    EXPECT_EQ(gate[1], 200.0f) << name;
    EXPECT_NEAR(gate[2], 88.5f, 1e-4f) << name;
    for (int i = 3; i < 6; ++i) {
      EXPECT_LE(gate[size_t(i)], 0.0f) << name << " x=" << x[size_t(i)];
      EXPECT_GT(gate[size_t(i)], -1e-30f) << name << " x=" << x[size_t(i)];
    }
    EXPECT_EQ(gate[6], 0.0f) << name;
    EXPECT_EQ(gate[7], 0.0f) << name;
    EXPECT_NEAR(gate[8], 0.5e-20f, 1e-26f) << name;
  }
}

TEST(SwiGLU, ResultDoesNotDependOnPosition) {
  // A token's row must come out the same alone or inside a batch, where its values sit at other offsets (and
  // in or out of the vector loop's tail).
  for (const char* name : {"scalar", "avx2"}) {
    const KernelTable* t = FindKernels(name);
    if (!t) continue;
    const int64_t n = 43;
    std::vector<float> gate, up;
    Inputs(n, gate, up);
    std::vector<float> alone = gate;
    t->swiglu(alone.data(), up.data(), n);
    for (int64_t shift : {1, 3, 5, 8}) {
      std::vector<float> g(size_t(n + shift), 0.5f), u(size_t(n + shift), 1.0f);
      std::copy(gate.begin(), gate.end(), g.begin() + shift);
      std::copy(up.begin(), up.end(), u.begin() + shift);
      t->swiglu(g.data(), u.data(), n + shift);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(std::bit_cast<uint32_t>(alone[size_t(i)]), std::bit_cast<uint32_t>(g[size_t(i + shift)]))
            << name << " shift " << shift << " i " << i;
    }
  }
}

TEST(SwiGLU, PoolSplitIsBitIdentical) {
  // ApplySwiGLU splits large inputs over the pool; every value is computed by the same kernel either way.
  const int64_t n = (int64_t(1) << 17) + 13;
  std::vector<float> gate, up;
  Inputs(n, gate, up);
  std::vector<float> one = gate, two = gate;
  ApplySwiGLU(one.data(), up.data(), n, nullptr);
  ThreadPool pool(2);
  ApplySwiGLU(two.data(), up.data(), n, &pool);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(std::bit_cast<uint32_t>(one[size_t(i)]), std::bit_cast<uint32_t>(two[size_t(i)])) << i;
}

}  // namespace
}  // namespace seek

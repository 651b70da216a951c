// kernels/ref: MatMul against a naive double-precision product over the dequantized weights, for every
// weight type the model path uses, odd shapes, 1 and 2 threads; and the plain fp32 ops.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "kernels/quant/quant.h"
#include "kernels/ref/matmul.h"
#include "kernels/ref/ops.h"

namespace seek {
namespace {

std::vector<float> RandomVec(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

struct MatMulCase {
  DType type;
  int64_t n_in, n_out, n_tokens;
  int threads;
};

void CheckMatMulRef(const MatMulCase& mc) {
  SCOPED_TRACE(testing::Message() << DTypeName(mc.type) << " n_in=" << mc.n_in << " n_out=" << mc.n_out
                                  << " n_tokens=" << mc.n_tokens << " threads=" << mc.threads);
  ASSERT_TRUE(CanQuantize(mc.type));
  const size_t row_bytes = *RowBytes(mc.type, mc.n_in);
  const std::vector<float> wf = RandomVec(size_t(mc.n_in * mc.n_out), 1);
  std::vector<uint8_t> wq(row_bytes * size_t(mc.n_out));
  for (int64_t o = 0; o < mc.n_out; ++o)
    QuantizeRow(mc.type, wf.data() + o * mc.n_in, wq.data() + o * row_bytes, mc.n_in);
  const std::vector<float> x = RandomVec(size_t(mc.n_in * mc.n_tokens), 2);

  // Naive: dequantize the whole matrix, multiply in double.
  std::vector<float> wd(wf.size());
  for (int64_t o = 0; o < mc.n_out; ++o)
    DequantizeRow(mc.type, wq.data() + o * row_bytes, wd.data() + o * mc.n_in, mc.n_in);
  std::vector<double> want(size_t(mc.n_tokens * mc.n_out)), mag(want.size());
  for (int64_t t = 0; t < mc.n_tokens; ++t) {
    for (int64_t o = 0; o < mc.n_out; ++o) {
      double s = 0, m = 0;
      for (int64_t i = 0; i < mc.n_in; ++i) {
        s += double(wd[size_t(o * mc.n_in + i)]) * x[size_t(t * mc.n_in + i)];
        m += std::fabs(double(wd[size_t(o * mc.n_in + i)]) * x[size_t(t * mc.n_in + i)]);
      }
      want[size_t(t * mc.n_out + o)] = s;
      mag[size_t(t * mc.n_out + o)] = m;
    }
  }

  ThreadPool pool(mc.threads);
  std::vector<float> y(want.size(), NAN);
  MatMulRef(MatMulWeight{mc.type, wq.data(), row_bytes, mc.n_in, mc.n_out}, x.data(), y.data(), mc.n_tokens,
         &pool);
  for (size_t i = 0; i < y.size(); ++i) {
    // fp32 accumulation: error budget relative to the sum of |terms|.
    ASSERT_NEAR(y[i], want[i], 1e-5 * mag[i] + 1e-6) << "at " << i;
  }
}

TEST(RefMatMul, AllTypesShapesAndThreads) {
  for (DType t : {DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_0}) {
    const bool plain = t == DType::kF32 || t == DType::kF16;
    for (int64_t n_in : plain ? std::vector<int64_t>{1, 7, 64} : std::vector<int64_t>{32, 96}) {
      for (int64_t n_out : {1, 17, 37}) {
        for (int64_t n_tokens : {1, 2, 5}) {
          for (int threads : {1, 2}) CheckMatMulRef({t, n_in, n_out, n_tokens, threads});
        }
      }
    }
  }
}

TEST(RefMatMul, NullPoolAndManyRows) {
  const int64_t n_in = 64, n_out = 301;
  const auto w = RandomVec(size_t(n_in * n_out), 3);
  const auto x = RandomVec(size_t(n_in * 3), 4);
  std::vector<float> y1(size_t(n_out * 3)), y2(y1.size());
  MatMulWeight mw{DType::kF32, w.data(), size_t(n_in) * 4, n_in, n_out};
  MatMulRef(mw, x.data(), y1.data(), 3, nullptr);
  ThreadPool pool(2);
  MatMulRef(mw, x.data(), y2.data(), 3, &pool);
  EXPECT_EQ(y1, y2);  // same per-row arithmetic regardless of threads
}

TEST(RefOps, RmsNorm) {
  const float x[4] = {1, 2, 3, 4}, w[4] = {1, 0.5f, 2, 1};
  float y[4];
  RmsNorm(x, w, y, 4, 1e-5f);
  const double rms = std::sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-5);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i], x[i] / rms * w[i], 1e-6);
}

TEST(RefOps, SoftmaxIsStableForLargeLogits) {
  float x[3] = {1000.0f, 1001.0f, 999.0f};
  Softmax(x, 3);
  const double e0 = std::exp(-1.0), e2 = std::exp(-2.0), s = e0 + 1 + e2;
  EXPECT_NEAR(x[0], e0 / s, 1e-6);
  EXPECT_NEAR(x[1], 1 / s, 1e-6);
  EXPECT_NEAR(x[2], e2 / s, 1e-6);
}

TEST(RefOps, SiluAndSwiGLU) {
  EXPECT_FLOAT_EQ(Silu(0.0f), 0.0f);
  EXPECT_NEAR(Silu(2.0f), 2.0 / (1.0 + std::exp(-2.0)), 1e-6);
  float g[2] = {1.0f, -3.0f};
  const float u[2] = {2.0f, 0.5f};
  SwiGLU(g, u, 2);
  EXPECT_NEAR(g[0], 1.0 / (1.0 + std::exp(-1.0)) * 2.0, 1e-6);
  EXPECT_NEAR(g[1], -3.0 / (1.0 + std::exp(3.0)) * 0.5, 1e-6);
}

TEST(RefOps, RopePairsAndPassThrough) {
  // n_rot = 4 of head_dim 6: the last two dims are untouched.
  const float c[2] = {0.0f, 1.0f}, s[2] = {1.0f, 0.0f};  // pair 0 rotates 90 degrees, pair 1 not at all
  float norm[6] = {1, 2, 3, 4, 5, 6};
  Rope(norm, 4, c, s, RopeLayout::kNorm);  // pairs (0,1), (2,3)
  const float want_norm[6] = {-2, 1, 3, 4, 5, 6};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(norm[i], want_norm[i]) << i;
  float neox[6] = {1, 2, 3, 4, 5, 6};
  Rope(neox, 4, c, s, RopeLayout::kNeox);  // pairs (0,2), (1,3)
  const float want_neox[6] = {-3, 2, 1, 4, 5, 6};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(neox[i], want_neox[i]) << i;
}

}  // namespace
}  // namespace seek

// The interleaved Q5_0 / Q5_1 layouts (kernels/matmul/repack.h) beyond the shared repacked-layout tests of
// matmul_test.cc (which cover them too: every table vs the reference, round trip, wrong-scale detection,
// MatMulMany per job): the AVX2 group kernels against their scalar twins bit for bit for each token count
// 1..4, on several n_in and n_out not a multiple of 8, 1 and 2 threads; the extreme quants that reach the
// int16 bound of interleaved5_avx2.cc; and MoE-shaped MatMulMany (n_in = 1408, DeepSeek-V2-Lite's expert
// down matrices) against the fp32 reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/dispatch.h"
#include "kernels/matmul/avx2_kernels.h"
#include "kernels/matmul/repack.h"
#include "kernels/quant/quant.h"
#include "kernels/ref/matmul.h"
#include "kernels/repack_test_util.h"

namespace seek {
namespace {

constexpr DType kQ5Types[] = {DType::kQ5_0, DType::kQ5_1};

// Random Q5 blocks (every bit pattern of quants and high bits) with sane fp16 scales / mins.
std::vector<uint8_t> RandomQ5(DType t, int64_t n_in, int64_t n_out, uint32_t seed) {
  std::vector<uint8_t> w(*RowBytes(t, n_in) * size_t(n_out));
  std::mt19937 rng(seed);
  for (uint8_t& b : w) b = uint8_t(rng());
  std::uniform_real_distribution<float> scale(0.002f, 0.02f), offset(-0.1f, 0.1f);
  for (size_t off = 0; off < w.size(); off += Traits(t).type_size) {
    const uint16_t d = F32ToFP16(scale(rng)), m = F32ToFP16(offset(rng));
    std::memcpy(&w[off], &d, 2);
    if (t == DType::kQ5_1) std::memcpy(&w[off + 2], &m, 2);
  }
  return w;
}

using repack_test::RandomActs;

// Per output: 6 sigma of the activation rounding error (32-value blocks) + fp32 rounding.
double Budget(const float* wrow, const float* x, int64_t n_in) { return repack_test::ActRoundingBudget(wrow, x, n_in, 32); }

// The AVX2 group kernel for NT tokens (n_tokens = NT calls exactly dot[NT - 1]) equals its scalar twin bit for
// bit; several n_in (1, 3 and 44 blocks), n_out with a padded last group, 1 and 2 threads.
TEST(RepackedQ5, Avx2GroupKernelsMatchScalarTwins) {
#if defined(__x86_64__)
  if (!GetCpuFeatures().HasAvx2Set()) GTEST_SKIP() << "no AVX2";
  for (DType t : kQ5Types) {
    ASSERT_NE(avx2::FindGroupKernels(t), nullptr);
    ASSERT_NE(FindGroupKernelsRef(t), nullptr);
    for (int64_t n_in : {32, 96, 1408}) {
      for (int64_t n_out : {5, 8, 37}) {
        const repack_test::RepackedForTest p = repack_test::RepackForTest(t, n_in, n_out, RandomQ5(t, n_in, n_out, uint32_t(n_in + n_out)));
        for (int64_t nt = 1; nt <= 4; ++nt) {
          const std::vector<float> x = RandomActs(n_in * nt, uint32_t(nt * 13 + n_in));
          for (int threads : {1, 2}) {
            SCOPED_TRACE(testing::Message() << DTypeName(t) << " n_in=" << n_in << " n_out=" << n_out
                                            << " NT=" << nt << " threads=" << threads);
            ThreadPool pool(threads);
            std::vector<float> ref(size_t(n_out * nt), NAN), got(ref.size(), -1.0f);
            MatMulInterleaved8(*FindGroupKernelsRef(t), p.inter, x.data(), ref.data(), nt, &pool);
            MatMulInterleaved8(*avx2::FindGroupKernels(t), p.inter, x.data(), got.data(), nt, &pool);
            EXPECT_EQ(0, std::memcmp(ref.data(), got.data(), ref.size() * sizeof(float)));
          }
        }
      }
    }
  }
#else
  GTEST_SKIP() << "not x86-64";
#endif
}

// Every quant 31 (qs = 0xFF, all high bits set) against activations that all quantize to +127 or all to
// -127: each block's integer sum is +-32 * 31 * 127 = +-125984, and each int16 half of the AVX2 kernel reaches
// its bound +-31496. Summing more than 4 steps in int16 would wrap and give garbage. Checked against the exact
// value (per block: d a.d isum + c a.s, c = -16 d or m) for every table, and AVX2 vs twin bit for bit.
TEST(RepackedQ5, ExtremeQuantsStayExact) {
  const int64_t n_in = 256, n_out = 16;
  for (DType t : kQ5Types) {
    std::vector<uint8_t> rows(*RowBytes(t, n_in) * size_t(n_out), 0xFF);
    const float d = 0.01f, m = -0.05f;
    for (size_t off = 0; off < rows.size(); off += Traits(t).type_size) {
      const uint16_t hd = F32ToFP16(d), hm = F32ToFP16(m);
      std::memcpy(&rows[off], &hd, 2);
      if (t == DType::kQ5_1) std::memcpy(&rows[off + 2], &hm, 2);
    }
    const repack_test::RepackedForTest p = repack_test::RepackForTest(t, n_in, n_out, rows);
    for (float sign : {1.0f, -1.0f}) {
      const int64_t nt = 4;
      const std::vector<float> x(size_t(n_in * nt), 0.5f * sign);  // a.d = 0.5 / 127, qs = +-127, a.s = +-16
      const double ad = 0.5 / 127.0, as = double(0.5f / 127.0f) * 32 * 127 * sign;
      const double dd = FP16ToF32(F32ToFP16(d));
      const double c = t == DType::kQ5_0 ? -16.0 * dd : double(FP16ToF32(F32ToFP16(m)));
      const double want = double(n_in / 32) * (dd * ad * 32 * 31 * 127 * sign + c * as);
      std::vector<float> ref(size_t(n_out * nt));
      MatMulInterleaved8(*FindGroupKernelsRef(t), p.inter, x.data(), ref.data(), nt, nullptr);
      for (float v : ref) ASSERT_NEAR(v, want, 1e-4 * std::fabs(want)) << DTypeName(t) << " sign " << sign;
#if defined(__x86_64__)
      if (GetCpuFeatures().HasAvx2Set()) {
        for (int64_t k = 1; k <= nt; ++k) {  // each token count
          std::vector<float> got(size_t(n_out * k));
          MatMulInterleaved8(*avx2::FindGroupKernels(t), p.inter, x.data(), got.data(), k, nullptr);
          EXPECT_EQ(0, std::memcmp(got.data(), ref.data(), got.size() * sizeof(float)))
              << DTypeName(t) << " sign " << sign << " NT=" << k;
        }
      }
#endif
    }
  }
}

// MoE decode and prefill shapes: six expert down matrices (n_in = 1408, 44 blocks; n_out = 60, a padded last
// group) repacked, through MatMulMany of every table, each job within budget of the fp32 reference on the
// row-layout weights.
TEST(RepackedQ5, MatMulManyExpertsMatchReference) {
  const int64_t n_in = 1408, n_out = 60, n_jobs = 6;
  for (DType t : kQ5Types) {
    std::vector<repack_test::RepackedForTest> experts;
    for (int64_t e = 0; e < n_jobs; ++e)
      experts.push_back(repack_test::RepackForTest(t, n_in, n_out, RandomQ5(t, n_in, n_out, uint32_t(e + 1))));
    for (int64_t n_tokens : {1, 3, 9}) {
      std::vector<std::vector<float>> xs, want, got;
      for (int64_t e = 0; e < n_jobs; ++e) {
        xs.push_back(RandomActs(n_in * n_tokens, uint32_t(100 + e)));
        want.emplace_back(size_t(n_out * n_tokens));
        MatMulRef(experts[size_t(e)].plain, xs.back().data(), want.back().data(), n_tokens, nullptr);
      }
      std::vector<float> wrow(static_cast<size_t>(n_in));
      std::vector<KernelTable const*> tables = {&ScalarKernels()};
      if (const KernelTable* a = FindKernels("avx2")) tables.push_back(a);
      for (const KernelTable* table : tables) {
        for (int threads : {1, 2}) {
          SCOPED_TRACE(testing::Message() << table->name << " " << DTypeName(t) << " n_tokens=" << n_tokens
                                          << " threads=" << threads);
          ThreadPool pool(threads);
          got.assign(size_t(n_jobs), std::vector<float>(size_t(n_out * n_tokens), NAN));
          std::vector<MatMulJob> jobs;
          for (int64_t e = 0; e < n_jobs; ++e)
            jobs.push_back({experts[size_t(e)].inter, xs[size_t(e)].data(), got[size_t(e)].data(), n_tokens});
          table->matmul_many(jobs, &pool);
          int bad = 0;
          for (int64_t e = 0; e < n_jobs; ++e) {
            for (int64_t o = 0; o < n_out; ++o) {
              DequantizeWeightRow(experts[size_t(e)].plain, o, wrow.data());
              for (int64_t tk = 0; tk < n_tokens; ++tk) {
                const size_t i = size_t(tk * n_out + o);
                const double budget = Budget(wrow.data(), xs[size_t(e)].data() + tk * n_in, n_in);
                if (!(std::fabs(double(got[size_t(e)][i]) - want[size_t(e)][i]) <= budget) && bad++ < 3)
                  ADD_FAILURE() << "expert " << e << " out " << i << ": " << got[size_t(e)][i] << " vs "
                                << want[size_t(e)][i] << " budget " << budget;
              }
            }
          }
          EXPECT_EQ(bad, 0);
        }
      }
    }
  }
}

}  // namespace
}  // namespace seek

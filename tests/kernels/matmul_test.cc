// Fast MatMul kernels (every kernel table: scalar, avx2 where the CPU has it) against the scalar reference
// MatMulRef, for every weight type with a fast kernel, on odd shapes, 1 and 2 threads; plus batch and thread
// invariance, the activation quantizers against their scalar twins, and SEEK_ISA selection.
//
// Error budgets (docs/KERNELS.md, "Fast kernels"): per output y[t][o] with mag = sum_i |w_i x_i|,
//  - fp32-activation kernels (F32, F16, BF16): kFloatRel * mag (fp32 summation order only);
//  - 8-bit-activation kernels: kSigmas * sigma + kFloatRel * mag, where sigma is the standard deviation of
//    the activation rounding error: x_i is rounded to a grid of step d_b = amax_b / 127 (b = the 32- or
//    256-value block of i), so the error is ~uniform in [-d_b/2, d_b/2] and
//    sigma^2 = sum_i w_i^2 d_b^2 / 12.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/dispatch.h"
#include "kernels/matmul/act_quant.h"
#include "kernels/matmul/avx2_kernels.h"
#include "kernels/matmul/repack.h"
#include "kernels/quant/quant.h"
#include "kernels/ref/matmul.h"

namespace seek {
namespace {

constexpr double kFloatRel = 2e-5;  // fp32 rounding, relative to sum |w x|
constexpr double kSigmas = 6.0;     // activation-quantization error, in standard deviations

// Types with fast kernels, and the activation block size their kernels quantize with (0 = fp32).
struct TypeCase {
  DType type;
  int act_block;
};
const TypeCase kTypes[] = {
    {DType::kF32, 0},   {DType::kF16, 0},    {DType::kBF16, 0},   {DType::kQ4_0, 32},  {DType::kQ4_1, 32},
    {DType::kQ5_0, 32}, {DType::kQ5_1, 32},  {DType::kQ8_0, 32},  {DType::kQ4_K, 256}, {DType::kQ5_K, 256},
    {DType::kQ6_K, 256}, {DType::kQ2_K, 0},  {DType::kQ3_K, 0},
};

std::vector<float> RandomVec(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

void PutHalf(uint8_t* p, float f) {
  const uint16_t h = F32ToFP16(f);
  std::memcpy(p, &h, 2);
}

// Random weights of type t: [n_out] rows of row_bytes. Quantized blocks are random bytes (every bit pattern
// of quants and packed scales) with sane fp16 scale fields; plain types come from random floats.
std::vector<uint8_t> RandomWeights(DType t, int64_t n_in, int64_t n_out, uint32_t seed) {
  const size_t row_bytes = *RowBytes(t, n_in);
  std::vector<uint8_t> w(row_bytes * size_t(n_out));
  if (!Traits(t).quantized) {
    const std::vector<float> f = RandomVec(size_t(n_in * n_out), seed);
    for (int64_t o = 0; o < n_out; ++o) QuantizeRow(t, f.data() + o * n_in, w.data() + o * row_bytes, n_in);
    return w;
  }
  std::mt19937 rng(seed);
  for (uint8_t& b : w) b = uint8_t(rng());
  std::uniform_real_distribution<float> scale(0.002f, 0.02f), offset(-0.1f, 0.1f);
  const size_t bsize = Traits(t).type_size;
  for (size_t off = 0; off < w.size(); off += bsize) {
    uint8_t* blk = w.data() + off;
    switch (t) {
      case DType::kQ4_0: case DType::kQ5_0: case DType::kQ8_0: PutHalf(blk, scale(rng)); break;
      case DType::kQ4_1: case DType::kQ5_1: PutHalf(blk, scale(rng)); PutHalf(blk + 2, offset(rng)); break;
      case DType::kQ4_K: case DType::kQ5_K: PutHalf(blk, scale(rng) / 16); PutHalf(blk + 2, scale(rng) / 16); break;
      case DType::kQ6_K: PutHalf(blk + 208, scale(rng) / 16); break;
      case DType::kQ2_K: PutHalf(blk + 80, scale(rng)); PutHalf(blk + 82, scale(rng)); break;
      case DType::kQ3_K: PutHalf(blk + 108, scale(rng)); break;
      default: ADD_FAILURE() << "no scale layout for " << DTypeName(t);
    }
  }
  return w;
}

// Activations [n_tokens][n_in]: uniform, with one large outlier per token (real activations have some).
std::vector<float> RandomActivations(int64_t n_in, int64_t n_tokens, uint32_t seed) {
  std::vector<float> x = RandomVec(size_t(n_in * n_tokens), seed);
  for (int64_t t = 0; t < n_tokens; ++t) x[size_t(t * n_in + (t * 7919) % n_in)] *= 20.0f;
  return x;
}

// Per-output budget for y[t][o] (see the file comment).
std::vector<double> Budgets(const TypeCase& tc, const std::vector<float>& wf, const std::vector<float>& x,
                            int64_t n_in, int64_t n_out, int64_t n_tokens) {
  std::vector<double> budget(size_t(n_out * n_tokens));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* xt = x.data() + t * n_in;
    std::vector<double> step(size_t(n_in), 0.0);  // activation grid step of each element
    if (tc.act_block > 0) {
      for (int64_t b = 0; b < n_in; b += tc.act_block) {
        double amax = 0;
        for (int64_t i = b; i < b + tc.act_block; ++i) amax = std::max(amax, double(std::fabs(xt[i])));
        for (int64_t i = b; i < b + tc.act_block; ++i) step[size_t(i)] = amax / 127.0;
      }
    }
    for (int64_t o = 0; o < n_out; ++o) {
      const float* wr = wf.data() + o * n_in;
      double mag = 0, var = 0;
      for (int64_t i = 0; i < n_in; ++i) {
        mag += std::fabs(double(wr[i]) * xt[i]);
        var += double(wr[i]) * wr[i] * step[size_t(i)] * step[size_t(i)] / 12.0;
      }
      budget[size_t(t * n_out + o)] = kSigmas * std::sqrt(var) + kFloatRel * mag + 1e-6;
    }
  }
  return budget;
}

struct Shape {
  int64_t n_in, n_out, n_tokens;
};

// Returns the number of outputs of `table` outside the budget against MatMulRef.
// w_test is repacked to `layout` first (kernels/matmul/repack.h) unless that is kRows.
int CountOverBudget(const KernelTable& table, const TypeCase& tc, const Shape& s, int threads,
                    const std::vector<uint8_t>& w_ref, const std::vector<uint8_t>& w_test, bool report = true,
                    WeightLayout layout = WeightLayout::kRows) {
  const size_t row_bytes = *RowBytes(tc.type, s.n_in);
  MatMulWeight ref{tc.type, w_ref.data(), row_bytes, s.n_in, s.n_out};
  MatMulWeight test{tc.type, w_test.data(), row_bytes, s.n_in, s.n_out};
  std::vector<uint8_t> packed;
  if (layout != WeightLayout::kRows) {
    packed.resize(RepackedBytes(layout, tc.type, s.n_in, s.n_out));
    RepackWeight(test, layout, packed.data(), nullptr);
    test.data = packed.data();
    test.layout = layout;
  }
  const std::vector<float> x = RandomActivations(s.n_in, s.n_tokens, 7);
  std::vector<float> wf(size_t(s.n_in * s.n_out));
  for (int64_t o = 0; o < s.n_out; ++o) DequantizeRow(tc.type, w_ref.data() + o * row_bytes, wf.data() + o * s.n_in, s.n_in);
  ThreadPool pool(threads);
  std::vector<float> want(size_t(s.n_out * s.n_tokens)), got(want.size(), NAN);
  MatMulRef(ref, x.data(), want.data(), s.n_tokens, &pool);
  table.matmul(test, x.data(), got.data(), s.n_tokens, &pool);
  const std::vector<double> budget = Budgets(tc, wf, x, s.n_in, s.n_out, s.n_tokens);
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::fabs(double(got[i]) - want[i]) <= budget[i])) {
      if (report && bad < 3) ADD_FAILURE() << "output " << i << ": got " << got[i] << " want " << want[i] << " budget " << budget[i];
      ++bad;
    }
  }
  return bad;
}

std::vector<const KernelTable*> Tables() {
  std::vector<const KernelTable*> tables = {&ScalarKernels()};
  if (const KernelTable* t = FindKernels("avx2")) tables.push_back(t);
  return tables;
}

const Shape kShapes[] = {
    {256, 1, 1}, {256, 17, 2}, {512, 33, 3}, {768, 5, 7}, {512, 67, 33}, {256, 19, 65}, {2048, 40, 4},
};

TEST(MatMulKernels, EveryTableMatchesReference) {
  for (const KernelTable* table : Tables()) {
    for (const TypeCase& tc : kTypes) {
      for (const Shape& s : kShapes) {
        for (int threads : {1, 2}) {
          SCOPED_TRACE(testing::Message() << table->name << " " << DTypeName(tc.type) << " n_in=" << s.n_in
                                          << " n_out=" << s.n_out << " n_tokens=" << s.n_tokens
                                          << " threads=" << threads);
          const std::vector<uint8_t> w = RandomWeights(tc.type, s.n_in, s.n_out, uint32_t(s.n_out * 31 + s.n_in));
          EXPECT_EQ(CountOverBudget(*table, tc, s, threads, w, w), 0);
        }
      }
    }
  }
}

// Legacy types also work for rows of a few blocks (n_in = 32, 96) and float types for any n_in.
TEST(MatMulKernels, ShortAndOddRows) {
  const Shape shapes[] = {{32, 3, 5}, {96, 18, 2}, {160, 7, 9}};
  for (const KernelTable* table : Tables()) {
    for (const TypeCase& tc : kTypes) {
      if (Traits(tc.type).block_size != 32 && Traits(tc.type).quantized) continue;
      for (const Shape& s0 : shapes) {
        Shape s = s0;
        if (!Traits(tc.type).quantized) s.n_in += 3;  // not a multiple of 8 or 16: the scalar tail runs
        SCOPED_TRACE(testing::Message() << table->name << " " << DTypeName(tc.type) << " n_in=" << s.n_in);
        const std::vector<uint8_t> w = RandomWeights(tc.type, s.n_in, s.n_out, 99);
        EXPECT_EQ(CountOverBudget(*table, tc, s, 2, w, w), 0);
      }
    }
  }
}

// The budgets can fail: a 25% error in the block scales (as a wrong scale decode would make) is caught for
// every quantized type, by every table.
TEST(MatMulKernels, BudgetCatchesWrongScale) {
  const Shape s{512, 24, 3};
  for (const TypeCase& tc : kTypes) {
    if (!Traits(tc.type).quantized) continue;
    const std::vector<uint8_t> w = RandomWeights(tc.type, s.n_in, s.n_out, 5);
    std::vector<uint8_t> wrong = w;
    const size_t bsize = Traits(tc.type).type_size;
    const size_t d_off = tc.type == DType::kQ6_K ? 208 : tc.type == DType::kQ2_K ? 80 : tc.type == DType::kQ3_K ? 108 : 0;
    for (size_t off = 0; off < wrong.size(); off += bsize) {
      uint16_t h;
      std::memcpy(&h, wrong.data() + off + d_off, 2);
      PutHalf(wrong.data() + off + d_off, FP16ToF32(h) * 1.25f);
    }
    for (const KernelTable* table : Tables()) {
      SCOPED_TRACE(testing::Message() << table->name << " " << DTypeName(tc.type));
      EXPECT_GT(CountOverBudget(*table, tc, s, 1, w, wrong, /*report=*/false), int(s.n_out * s.n_tokens) / 2);
    }
  }
}

// y[t] does not depend on the batch size or the thread count, bit for bit.
TEST(MatMulKernels, BatchAndThreadInvariant) {
  for (const KernelTable* table : Tables()) {
    for (const TypeCase& tc : kTypes) {
      SCOPED_TRACE(testing::Message() << table->name << " " << DTypeName(tc.type));
      const int64_t n_in = 512, n_out = 37, n_tokens = 11;
      const std::vector<uint8_t> w = RandomWeights(tc.type, n_in, n_out, 3);
      const MatMulWeight mw{tc.type, w.data(), *RowBytes(tc.type, n_in), n_in, n_out};
      const std::vector<float> x = RandomActivations(n_in, n_tokens, 4);
      ThreadPool pool2(2);
      std::vector<float> batch(size_t(n_out * n_tokens));
      std::vector<float> single(static_cast<size_t>(n_out));
      table->matmul(mw, x.data(), batch.data(), n_tokens, &pool2);
      for (int64_t t = 0; t < n_tokens; ++t) {
        table->matmul(mw, x.data() + t * n_in, single.data(), 1, nullptr);
        for (int64_t o = 0; o < n_out; ++o) ASSERT_EQ(batch[size_t(t * n_out + o)], single[size_t(o)]) << t << "," << o;
      }
    }
  }
}

// ---- repacked layouts (kernels/matmul/repack.h) ----

const TypeCase kRepackTypes[] = {{DType::kQ4_0, 32}, {DType::kQ4_1, 32}, {DType::kQ8_0, 32}, {DType::kQ4_K, 256},
                                 {DType::kQ6_K, 256}, {DType::kQ5_0, 32}, {DType::kQ5_1, 32}};

// Every table computes a repacked weight (the scalar table through the scalar twins) within the same budget
// as the row kernels; n_out not a multiple of 8 (padded last group), n_tokens 1..9 and larger.
TEST(RepackedMatMul, EveryTableMatchesReference) {
  const Shape shapes[] = {{256, 1, 1},  {256, 8, 2},  {512, 17, 3},  {96, 33, 4},  {768, 5, 5}, {256, 40, 6},
                          {512, 67, 7}, {160, 9, 8},  {256, 24, 9},  {512, 67, 33}, {256, 19, 65}};
  for (const KernelTable* table : Tables()) {
    for (const TypeCase& tc : kRepackTypes) {
      for (const Shape& s0 : shapes) {
        Shape s = s0;
        if (s.n_in % tc.act_block) s.n_in = (s.n_in / tc.act_block + 1) * tc.act_block;  // Q4_K: 256
        for (int threads : {1, 2}) {
          SCOPED_TRACE(testing::Message() << table->name << " " << DTypeName(tc.type) << " n_in=" << s.n_in
                                          << " n_out=" << s.n_out << " n_tokens=" << s.n_tokens
                                          << " threads=" << threads);
          const std::vector<uint8_t> w = RandomWeights(tc.type, s.n_in, s.n_out, uint32_t(s.n_out * 17 + s.n_in));
          EXPECT_EQ(CountOverBudget(*table, tc, s, threads, w, w, true, WeightLayout::kInterleaved8), 0);
        }
      }
    }
  }
}

TEST(RepackedMatMul, BudgetCatchesWrongScale) {
  const Shape s{512, 24, 3};
  for (const TypeCase& tc : kRepackTypes) {
    const std::vector<uint8_t> w = RandomWeights(tc.type, s.n_in, s.n_out, 5);
    std::vector<uint8_t> wrong = w;
    const size_t d_off = tc.type == DType::kQ6_K ? 208 : 0;
    for (size_t off = 0; off < wrong.size(); off += Traits(tc.type).type_size) {
      uint16_t h;
      std::memcpy(&h, wrong.data() + off + d_off, 2);
      PutHalf(wrong.data() + off + d_off, FP16ToF32(h) * 1.25f);
    }
    for (const KernelTable* table : Tables()) {
      SCOPED_TRACE(testing::Message() << table->name << " " << DTypeName(tc.type));
      EXPECT_GT(CountOverBudget(*table, tc, s, 1, w, wrong, false, WeightLayout::kInterleaved8),
                int(s.n_out * s.n_tokens) / 2);
    }
  }
}

// Repacking loses nothing: every row dequantizes to the same values as before.
TEST(RepackedMatMul, DequantizeWeightRowRoundTrip) {
  for (const TypeCase& tc : kRepackTypes) {
    const int64_t n_in = 512, n_out = 13;
    const std::vector<uint8_t> w = RandomWeights(tc.type, n_in, n_out, 8);
    const MatMulWeight plain{tc.type, w.data(), *RowBytes(tc.type, n_in), n_in, n_out};
    std::vector<uint8_t> packed(RepackedBytes(WeightLayout::kInterleaved8, tc.type, n_in, n_out));
    ThreadPool pool(2);
    RepackWeight(plain, WeightLayout::kInterleaved8, packed.data(), &pool);
    MatMulWeight rw = plain;
    rw.data = packed.data();
    rw.layout = WeightLayout::kInterleaved8;
    std::vector<float> a(static_cast<size_t>(n_in)), b(static_cast<size_t>(n_in));
    for (int64_t o = 0; o < n_out; ++o) {
      DequantizeWeightRow(plain, o, a.data());
      DequantizeWeightRow(rw, o, b.data());
      ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << DTypeName(tc.type) << " row " << o;
    }
  }
}

// The AVX2 group kernels agree with their scalar twins bit for bit, and y[t] does not depend on n_tokens or
// the thread count.
TEST(RepackedMatMul, Avx2MatchesScalarTwinAndInvariant) {
  // 11 tokens run the 4- and 3-token kernels, 2 tokens the 2-token one, single tokens the 1-token one.
  for (const int64_t n_tokens : {int64_t(11), int64_t(2)})
  for (const TypeCase& tc : kRepackTypes) {
    const int64_t n_in = 512, n_out = 37;
    const std::vector<uint8_t> w = RandomWeights(tc.type, n_in, n_out, 3);
    const MatMulWeight plain{tc.type, w.data(), *RowBytes(tc.type, n_in), n_in, n_out};
    std::vector<uint8_t> packed(RepackedBytes(WeightLayout::kInterleaved8, tc.type, n_in, n_out));
    RepackWeight(plain, WeightLayout::kInterleaved8, packed.data(), nullptr);
    MatMulWeight rw = plain;
    rw.data = packed.data();
    rw.layout = WeightLayout::kInterleaved8;
    const std::vector<float> x = RandomActivations(n_in, n_tokens, 4);
    ThreadPool pool2(2);
    std::vector<float> ref(size_t(n_out * n_tokens));
    MatMulInterleaved8(*FindGroupKernelsRef(tc.type), rw, x.data(), ref.data(), n_tokens, &pool2);
    for (const KernelTable* table : Tables()) {
      SCOPED_TRACE(testing::Message() << table->name << " " << DTypeName(tc.type));
      std::vector<float> batch(size_t(n_out * n_tokens)), single(static_cast<size_t>(n_out));
      table->matmul(rw, x.data(), batch.data(), n_tokens, &pool2);
      EXPECT_EQ(0, std::memcmp(batch.data(), ref.data(), batch.size() * sizeof(float)));
      for (int64_t t = 0; t < n_tokens; ++t) {
        table->matmul(rw, x.data() + t * n_in, single.data(), 1, nullptr);
        for (int64_t o = 0; o < n_out; ++o) ASSERT_EQ(batch[size_t(t * n_out + o)], single[size_t(o)]) << t << "," << o;
      }
    }
  }
}

TEST(RepackedMatMul, TablesChooseLayouts) {
  EXPECT_EQ(PreferredLayout(ScalarKernels(), DType::kQ4_0, 256, 64), WeightLayout::kRows);
  if (const KernelTable* t = FindKernels("avx2")) {
    for (DType type : {DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0, DType::kQ4_K})
      EXPECT_EQ(PreferredLayout(*t, type, 256, 64), WeightLayout::kInterleaved8) << DTypeName(type);
    EXPECT_EQ(PreferredLayout(*t, DType::kQ6_K, 256, 64), WeightLayout::kRows);  // measured slower
    EXPECT_EQ(PreferredLayout(*t, DType::kF16, 256, 64), WeightLayout::kRows);
  }
}

// ---- MatMulMany (kernels/matmul/many.h) ----

// A weight for a MatMulMany test, owning its bytes (repacked when layout is kInterleaved8).
struct OwnedWeight {
  std::vector<uint8_t> bytes;
  MatMulWeight w;
};

OwnedWeight MakeWeight(DType t, int64_t n_in, int64_t n_out, uint32_t seed, WeightLayout layout) {
  OwnedWeight o;
  o.bytes = RandomWeights(t, n_in, n_out, seed);
  o.w = MatMulWeight{t, o.bytes.data(), *RowBytes(t, n_in), n_in, n_out};
  if (layout != WeightLayout::kRows) {
    std::vector<uint8_t> packed(RepackedBytes(layout, t, n_in, n_out));
    RepackWeight(o.w, layout, packed.data(), nullptr);
    o.bytes = std::move(packed);
    o.w.data = o.bytes.data();
    o.w.layout = layout;
  }
  return o;
}

// Every job's y equals the table's MatMul of that job alone, bit for bit, for every type and layout, shared
// and separate inputs, mixed token counts (1 = decode; 33 and 65 quantize over the pool), 1 and 2 threads.
TEST(MatMulMany, BitIdenticalToMatMulPerJob) {
  struct JobSpec {
    TypeCase tc;
    WeightLayout layout;
    int64_t n_in, n_out;
    int input;  // jobs with the same input share x (and n_tokens)
  };
  std::vector<JobSpec> specs;
  int i = 0;
  for (const TypeCase& tc : kTypes) {  // all row layouts, two inputs of 512 (Q2_K/Q3_K: the reference)
    specs.push_back({tc, WeightLayout::kRows, 512, int64_t(17 + 8 * (i % 5)), i % 2});
    ++i;
  }
  for (const TypeCase& tc : kRepackTypes) {  // interleaved, odd n_out (padded last group), same inputs
    specs.push_back({tc, WeightLayout::kInterleaved8, 512, int64_t(9 + 16 * (i % 4)), i % 2});
    ++i;
  }
  specs.push_back({{DType::kQ4_0, 32}, WeightLayout::kRows, 96, 5, 2});   // a third input, other n_in
  specs.push_back({{DType::kF16, 0}, WeightLayout::kRows, 99, 130, 3});  // fp32 activations, odd n_in
  for (int64_t n_tokens : {1, 2, 7, 33, 65}) {
    std::vector<OwnedWeight> weights;
    std::vector<std::vector<float>> inputs(4);
    for (int in = 0; in < 4; ++in) {
      const int64_t n_in = in < 2 ? 512 : in == 2 ? 96 : 99;
      inputs[size_t(in)] = RandomActivations(n_in, n_tokens, uint32_t(100 + in));
    }
    for (size_t k = 0; k < specs.size(); ++k)
      weights.push_back(MakeWeight(specs[k].tc.type, specs[k].n_in, specs[k].n_out, uint32_t(k + 1), specs[k].layout));
    for (const KernelTable* table : Tables()) {
      for (int threads : {1, 2}) {
        SCOPED_TRACE(testing::Message() << table->name << " n_tokens=" << n_tokens << " threads=" << threads);
        ThreadPool pool(threads);
        std::vector<std::vector<float>> got(specs.size()), want(specs.size());
        std::vector<MatMulJob> jobs;
        for (size_t k = 0; k < specs.size(); ++k) {
          const size_t n_y = size_t(specs[k].n_out * n_tokens);
          got[k].assign(n_y, NAN);
          want[k].assign(n_y, NAN);
          table->matmul(weights[k].w, inputs[size_t(specs[k].input)].data(), want[k].data(), n_tokens, &pool);
          jobs.push_back({weights[k].w, inputs[size_t(specs[k].input)].data(), got[k].data(), n_tokens});
        }
        table->matmul_many(jobs, &pool);
        for (size_t k = 0; k < specs.size(); ++k) {
          EXPECT_EQ(0, std::memcmp(got[k].data(), want[k].data(), got[k].size() * sizeof(float)))
              << "job " << k << " " << DTypeName(specs[k].tc.type)
              << (specs[k].layout == WeightLayout::kInterleaved8 ? " interleaved" : " rows");
        }
      }
    }
  }
}

// Jobs of different sizes and token counts (MoE prefill: one expert per job, its own tokens), slices that cut
// through jobs, a job with no tokens (left untouched), and a single job (MatMul itself).
TEST(MatMulMany, UnevenJobsAndEdgeCases) {
  const int64_t n_in = 256;
  const int64_t n_outs[] = {200, 8, 1, 64, 333, 24};
  const int64_t n_toks[] = {3, 1, 5, 0, 2, 9};
  for (const KernelTable* table : Tables()) {
    for (WeightLayout layout : {WeightLayout::kRows, WeightLayout::kInterleaved8}) {
      for (int threads : {1, 2, 3}) {
        SCOPED_TRACE(testing::Message() << table->name << " threads=" << threads << " layout=" << int(layout));
        ThreadPool pool(threads);
        std::vector<OwnedWeight> weights;
        std::vector<std::vector<float>> xs, got, want;
        std::vector<MatMulJob> jobs;
        for (size_t k = 0; k < std::size(n_outs); ++k) {
          weights.push_back(MakeWeight(DType::kQ4_0, n_in, n_outs[k], uint32_t(7 * k + 1), layout));
          xs.push_back(RandomActivations(n_in, std::max<int64_t>(1, n_toks[k]), uint32_t(k + 50)));
          got.emplace_back(size_t(n_outs[k] * std::max<int64_t>(1, n_toks[k])), -1.0f);
          want.push_back(got.back());
          if (n_toks[k] > 0) table->matmul(weights[k].w, xs[k].data(), want[k].data(), n_toks[k], &pool);
        }
        for (size_t k = 0; k < std::size(n_outs); ++k)
          jobs.push_back({weights[k].w, xs[k].data(), got[k].data(), n_toks[k]});
        table->matmul_many(jobs, &pool);
        for (size_t k = 0; k < std::size(n_outs); ++k)
          EXPECT_EQ(0, std::memcmp(got[k].data(), want[k].data(), got[k].size() * sizeof(float))) << "job " << k;
        // One job alone, and no jobs.
        std::vector<float> one(got[0].size(), NAN);
        const MatMulJob single{weights[0].w, xs[0].data(), one.data(), n_toks[0]};
        table->matmul_many(std::span<const MatMulJob>(&single, 1), &pool);
        EXPECT_EQ(0, std::memcmp(one.data(), want[0].data(), one.size() * sizeof(float)));
        table->matmul_many({}, &pool);
      }
    }
  }
}

// The portable entry point goes through the active table.
TEST(MatMulMany, PortableEntryPoint) {
  const OwnedWeight a = MakeWeight(DType::kQ8_0, 256, 40, 1, WeightLayout::kRows);
  const OwnedWeight b = MakeWeight(DType::kQ8_0, 256, 24, 2, WeightLayout::kRows);
  const std::vector<float> x = RandomActivations(256, 2, 3);
  std::vector<float> ya(80), yb(48), wa(80), wb(48);
  const MatMulJob jobs[] = {{a.w, x.data(), ya.data(), 2}, {b.w, x.data(), yb.data(), 2}};
  ThreadPool pool(2);
  MatMulMany(jobs, &pool);
  MatMul(a.w, x.data(), wa.data(), 2, &pool);
  MatMul(b.w, x.data(), wb.data(), 2, &pool);
  EXPECT_EQ(ya, wa);
  EXPECT_EQ(yb, wb);
}

#if defined(__x86_64__)
TEST(ActQuant, Avx2MatchesScalar) {
  if (!GetCpuFeatures().HasAvx2Set()) GTEST_SKIP() << "no AVX2";
  const int64_t n = 1024;
  std::vector<float> x = RandomActivations(n, 1, 11);
  for (int i = 256; i < 288; ++i) x[size_t(i)] = 0.0f;  // an all-zero block
  x[300] = 1e-30f;                                      // a tiny-scale block
  std::vector<ActQ8x32> a(n / 32), b(n / 32);
  QuantizeActQ8x32Ref(x.data(), a.data(), n);
  avx2::QuantizeActQ8x32Avx2Fn(x.data(), b.data(), n);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(ActQ8x32)));
  std::vector<BlockQ8_K> c(n / 256), d(n / 256);
  QuantizeActQ8KRef(x.data(), c.data(), n);
  avx2::QuantizeActQ8KAvx2Fn(x.data(), d.data(), n);
  EXPECT_EQ(0, std::memcmp(c.data(), d.data(), c.size() * sizeof(BlockQ8_K)));
  // The scalar quantizer is right: values reconstruct within half a step.
  for (int64_t i = 0; i < n; ++i) {
    const ActQ8x32& blk = a[size_t(i / 32)];
    EXPECT_NEAR(blk.d * blk.qs[i % 32], x[size_t(i)], blk.d / 2 * 1.0001 + 1e-38);
  }
}
#endif

TEST(KernelTable, ScalarAlwaysAvailable) {
  ASSERT_NE(FindKernels("scalar"), nullptr);
  EXPECT_STREQ(FindKernels("scalar")->name, "scalar");
  EXPECT_EQ(FindKernels("no-such-isa"), nullptr);
  EXPECT_EQ(FindKernels("avx2") != nullptr, GetCpuFeatures().HasAvx2Set());
}

// SEEK_ISA picks the table at start-up; checked in a fresh process (the choice is fixed per process).
TEST(KernelTable, SeekIsaEnvironment) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("SEEK_ISA", "scalar", 1);
        std::exit(std::string(ActiveKernels().name) == "scalar" ? 0 : 1);
      },
      testing::ExitedWithCode(0), "");
  if (!GetCpuFeatures().HasAvx2Set()) return;
  EXPECT_EXIT(
      {
        setenv("SEEK_ISA", "AVX2", 1);
        std::exit(std::string(ActiveKernels().name) == "avx2" ? 0 : 1);
      },
      testing::ExitedWithCode(0), "");
  EXPECT_EXIT(
      {
        unsetenv("SEEK_ISA");
        std::exit(std::string(ActiveKernels().name) == "avx2" ? 0 : 1);
      },
      testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace seek

// Attention kernels (kernels/attention/) against the scalar reference (kernels/ref/attention.h), and the KV
// cache types against fp32.
//
// Budgets:
//   kTwinBudget   avx2 vs reference on the same cache bytes: only summation order, the online softmax's
//                 rescaling and the polynomial exp (< 2e-7 relative) differ. Max |d| <= 2e-5 on outputs of
//                 magnitude ~0.5 (measured ~1e-6).
//   f16 / q8_0 cache vs f32 cache (reference kernel): the K/V rounding itself. f16 rounds to 11 significant
//                 bits, q8_0 to amax/127 per 32 values; budgets kF16Budget / kQ8Budget are ~2.5-3x the
//                 measured max |d| (measured 1.7e-3 / 4.1e-2, printed as an [accuracy] line).
#include "kernels/attention/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/dispatch.h"
#include "kernels/ref/attention.h"

namespace seek {
namespace {

constexpr double kTwinBudget = 2e-5;
constexpr double kF16Budget = 5e-3;
constexpr double kQ8Budget = 0.1;

struct Shape {
  int32_t n_head, n_head_kv, dk, dv, n_tokens, pos0;
  bool v_in_k = false;  // MLA absorbed: V = the first dv values of the K rows
};

// A cache of n_kv positions in one layer: rows [n_kv][n_head_kv][dk] (K) and [n_kv][n_head_kv][dv] (V), or
// head-major [n_head_kv][n_kv][dk] and [n_head_kv][n_kv][dv] as the GQA KvCache stores them.
struct TestCache {
  KvType type;
  std::vector<uint8_t> k, v;
  KvRows krows, vrows;
};

std::vector<float> Random(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> x(n);
  for (float& e : x) e = dist(rng);
  return x;
}

TestCache MakeHeadMajorCache(KvType type, const Shape& s, const std::vector<float>& kf, const std::vector<float>& vf) {
  TestCache c{type, {}, {}, {}, {}};
  const int64_t n_kv = s.pos0 + s.n_tokens;
  const size_t krow = KvRowBytes(type, s.dk), vrow = KvRowBytes(type, s.dv);
  c.k.resize(size_t(s.n_head_kv * n_kv) * krow);
  c.v.resize(size_t(s.n_head_kv * n_kv) * vrow);
  for (int64_t g = 0; g < s.n_head_kv; ++g) {
    for (int64_t p = 0; p < n_kv; ++p) {
      const int64_t at = g * n_kv + p;
      KvStoreRowRef(type, kf.data() + (p * s.n_head_kv + g) * s.dk, c.k.data() + size_t(at) * krow, s.dk);
      KvStoreRowRef(type, vf.data() + (p * s.n_head_kv + g) * s.dv, c.v.data() + size_t(at) * vrow, s.dv);
    }
  }
  c.krows = KvRows{type, c.k.data(), krow, size_t(n_kv) * krow, 0};
  c.vrows = KvRows{type, c.v.data(), vrow, size_t(n_kv) * vrow, 0};
  return c;
}

TestCache MakeCache(KvType type, const Shape& s, const std::vector<float>& kf, const std::vector<float>& vf) {
  TestCache c{type, {}, {}, {}, {}};
  const int64_t n_kv = s.pos0 + s.n_tokens, kdim = int64_t(s.n_head_kv) * s.dk,
                vdim = int64_t(s.n_head_kv) * s.dv;
  const size_t krow = KvRowBytes(type, kdim), vrow = KvRowBytes(type, vdim);
  c.k.resize(size_t(n_kv) * krow);
  c.v.resize(size_t(n_kv) * vrow);
  for (int64_t p = 0; p < n_kv; ++p) {
    KvStoreRowRef(type, kf.data() + p * kdim, c.k.data() + p * krow, kdim);
    KvStoreRowRef(type, vf.data() + p * vdim, c.v.data() + p * vrow, vdim);
  }
  c.krows = KvRows{type, c.k.data(), krow, KvRowBytes(type, s.dk), 0};
  c.vrows = s.v_in_k ? c.krows : KvRows{type, c.v.data(), vrow, KvRowBytes(type, s.dv), 0};
  return c;
}

std::vector<float> RunAttention(AttentionFn fn, const Shape& s, const TestCache& c,
                                const std::vector<float>& q, ThreadPool* pool) {
  std::vector<float> out(size_t(s.n_tokens) * s.n_head * s.dv, -1.0f);
  AttentionParams p;
  p.q = q.data();
  p.out = out.data();
  p.k = c.krows;
  p.v = c.vrows;
  p.n_tokens = s.n_tokens;
  p.n_head = s.n_head;
  p.n_head_kv = s.n_head_kv;
  p.dk = s.dk;
  p.dv = s.dv;
  p.pos0 = s.pos0;
  p.scale = 1.0f / std::sqrt(float(s.dk));
  fn(p, pool);
  return out;
}

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

struct Inputs {
  std::vector<float> q, k, v;
};
Inputs MakeInputs(const Shape& s, uint32_t seed) {
  const int64_t n_kv = s.pos0 + s.n_tokens;
  // q scaled so that scores spread over a few units (peaked but not one-hot softmax rows).
  return {Random(size_t(s.n_tokens) * s.n_head * s.dk, seed, 2.0f),
          Random(size_t(n_kv) * s.n_head_kv * s.dk, seed + 1),
          Random(size_t(n_kv) * s.n_head_kv * s.dv, seed + 2)};
}

const std::vector<Shape>& Shapes() {
  static const std::vector<Shape> shapes = {
      {4, 4, 64, 64, 1, 0},             // MHA, first token
      {8, 4, 64, 64, 3, 5},             // GQA group 2, odd tokens and position
      {14, 2, 64, 64, 37, 11},          // group 7, several query tiles
      {32, 4, 64, 64, 1, 700},          // TinyLlama-shaped decode over a long cache (split KV with 2 threads)
      {8, 2, 128, 128, 70, 0},          // prefill from empty, head_dim 128
      {16, 1, 576, 512, 1, 333, true},  // MLA absorbed decode (V2-Lite): V inside the K rows, split KV
      {16, 1, 576, 512, 5, 40, true},   // MLA absorbed, a small batch
      {16, 1, 576, 512, 1, 40, true},   // MLA absorbed decode over a short cache: heads split over threads
      {5, 1, 64, 64, 1, 20},            // MQA with an odd group: unequal head parts
      {4, 4, 192, 128, 9, 3},           // MLA naive: dk != dv
      {6, 2, 32, 32, 300, 0},           // long prefill, several KV blocks and tiles
  };
  return shapes;
}

std::string Name(const Shape& s) {
  return "heads " + std::to_string(s.n_head) + "/" + std::to_string(s.n_head_kv) + " dk " +
         std::to_string(s.dk) + " dv " + std::to_string(s.dv) + " tokens " + std::to_string(s.n_tokens) +
         " pos0 " + std::to_string(s.pos0);
}

TEST(Attention, Avx2MatchesReference) {
  const KernelTable* avx2 = FindKernels("avx2");
  if (!avx2) GTEST_SKIP() << "no avx2 kernel table on this CPU/build";
  ThreadPool pool(2);
  uint32_t seed = 100;
  for (const Shape& s : Shapes()) {
    const Inputs in = MakeInputs(s, seed += 10);
    for (KvType type : {KvType::kF32, KvType::kF16, KvType::kQ8_0}) {
      const TestCache c = MakeCache(type, s, in.k, in.v);
      const auto want = RunAttention(AttentionRef, s, c, in.q, nullptr);
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        const auto got = RunAttention(avx2->attention->attend, s, c, in.q, p);
        const double d = MaxAbsDiff(got, want);
        EXPECT_LE(d, kTwinBudget) << Name(s) << " " << KvTypeName(type) << " threads " << (p ? 2 : 1);
      }
    }
  }
}

// However the rows are split into work items (head parts, KV chunks, 1-3 threads), every output is the same
// bit for bit: each row's arithmetic depends only on its query and the positions.
TEST(Attention, Avx2SameBitsForAnyThreadCount) {
  const KernelTable* avx2 = FindKernels("avx2");
  if (!avx2) GTEST_SKIP() << "no avx2 kernel table on this CPU/build";
  ThreadPool pool2(2), pool3(3);
  uint32_t seed = 700;
  for (const Shape& s : Shapes()) {
    const Inputs in = MakeInputs(s, seed += 10);
    const TestCache c = MakeCache(KvType::kF16, s, in.k, in.v);
    const auto one = RunAttention(avx2->attention->attend, s, c, in.q, nullptr);
    for (ThreadPool* p : {&pool2, &pool3}) {
      const auto got = RunAttention(avx2->attention->attend, s, c, in.q, p);
      ASSERT_EQ(got.size(), one.size());
      EXPECT_EQ(0, std::memcmp(got.data(), one.data(), got.size() * sizeof(float))) << Name(s) << " threads " << p->size();
    }
  }
}

// A head-major cache (the GQA KvCache's layout) holds the same values at other addresses: the reference
// gives the same bits as over the position-major cache, and the avx2 kernel stays within its twin budget.
TEST(Attention, HeadMajorCacheSameResults) {
  const KernelTable* avx2 = FindKernels("avx2");
  ThreadPool pool(2);
  uint32_t seed = 900;
  for (const Shape& s : Shapes()) {
    if (s.v_in_k) continue;  // one latent head: the two layouts are the same bytes
    const Inputs in = MakeInputs(s, seed += 10);
    for (KvType type : {KvType::kF32, KvType::kF16, KvType::kQ8_0}) {
      const TestCache rows = MakeCache(type, s, in.k, in.v), heads = MakeHeadMajorCache(type, s, in.k, in.v);
      const auto want = RunAttention(AttentionRef, s, rows, in.q, nullptr);
      const auto ref = RunAttention(AttentionRef, s, heads, in.q, nullptr);
      EXPECT_EQ(0, std::memcmp(ref.data(), want.data(), want.size() * sizeof(float))) << Name(s);
      if (!avx2) continue;
      const auto pos_major = RunAttention(avx2->attention->attend, s, rows, in.q, &pool);
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        const auto got = RunAttention(avx2->attention->attend, s, heads, in.q, p);
        EXPECT_LE(MaxAbsDiff(got, want), kTwinBudget) << Name(s) << " " << KvTypeName(type);
        EXPECT_EQ(0, std::memcmp(got.data(), pos_major.data(), got.size() * sizeof(float))) << Name(s);
      }
    }
  }
}

// head sizes that are no multiple of 8 exercise the scalar tails of the AVX2 dot products and accumulations.
TEST(Attention, Avx2OddHeadSizes) {
  const KernelTable* avx2 = FindKernels("avx2");
  if (!avx2) GTEST_SKIP() << "no avx2 kernel table on this CPU/build";
  ThreadPool pool(2);
  for (const Shape& s :
       {Shape{6, 3, 13, 13, 7, 4}, Shape{2, 1, 20, 12, 1, 300}, Shape{4, 2, 40, 40, 65, 66}}) {
    const Inputs in = MakeInputs(s, 7);
    for (KvType type : {KvType::kF32, KvType::kF16}) {
      const TestCache c = MakeCache(type, s, in.k, in.v);
      const auto want = RunAttention(AttentionRef, s, c, in.q, nullptr);
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool})
        EXPECT_LE(MaxAbsDiff(RunAttention(avx2->attention->attend, s, c, in.q, p), want), kTwinBudget)
            << Name(s);
    }
  }
}

// The reference over an f16 / q8_0 cache vs over an f32 cache of the same values: the type's own rounding.
TEST(Attention, CacheTypesWithinBudget) {
  double worst_f16 = 0, worst_q8 = 0;
  for (const Shape& s : Shapes()) {
    const Inputs in = MakeInputs(s, 3);
    const auto exact = RunAttention(AttentionRef, s, MakeCache(KvType::kF32, s, in.k, in.v), in.q, nullptr);
    const double f16 = MaxAbsDiff(
        RunAttention(AttentionRef, s, MakeCache(KvType::kF16, s, in.k, in.v), in.q, nullptr), exact);
    const double q8 = MaxAbsDiff(
        RunAttention(AttentionRef, s, MakeCache(KvType::kQ8_0, s, in.k, in.v), in.q, nullptr), exact);
    EXPECT_LE(f16, kF16Budget) << Name(s);
    EXPECT_LE(q8, kQ8Budget) << Name(s);
    worst_f16 = std::max(worst_f16, f16);
    worst_q8 = std::max(worst_q8, q8);
  }
  std::cout << "[accuracy] attention output vs f32 cache, max |d|: f16 " << worst_f16 << ", q8_0 " << worst_q8
            << "\n";
}

// Row conversions: the avx2 f16 store (F16C) gives the reference's bytes (both round to nearest even); loads
// give the reference's floats; q8_0 round-trips within half a quantization step.
TEST(Attention, RowConversionsMatchReference) {
  auto x = Random(4 * 64 + 32, 9, 3.0f);
  x[5] = 70000.0f;  // overflows f16 -> inf
  x[6] = 1e-6f;     // f16 subnormal
  x[7] = -0.0f;
  const int64_t n = int64_t(x.size());
  for (const KernelTable* t : {&ScalarKernels(), FindKernels("avx2")}) {
    if (!t) continue;
    for (KvType type : {KvType::kF32, KvType::kF16, KvType::kQ8_0}) {
      std::vector<uint8_t> a(KvRowBytes(type, n)), b(a.size());
      t->attention->store_row(type, x.data(), a.data(), n);
      KvStoreRowRef(type, x.data(), b.data(), n);
      EXPECT_EQ(a, b) << t->name << " " << KvTypeName(type);
      std::vector<float> ya(static_cast<size_t>(n)), yb(static_cast<size_t>(n));
      t->attention->load_row(type, a.data(), ya.data(), n);
      KvLoadRowRef(type, b.data(), yb.data(), n);
      EXPECT_EQ(std::memcmp(ya.data(), yb.data(), ya.size() * 4), 0) << t->name << " " << KvTypeName(type);
    }
  }
}

TEST(KvTypes, NamesSizesAndErrors) {
  EXPECT_EQ(ParseKvType("f16"), KvType::kF16);
  EXPECT_EQ(ParseKvType("Q8_0"), KvType::kQ8_0);
  EXPECT_EQ(ParseKvType("f32"), KvType::kF32);
  EXPECT_THROW(ParseKvType("q4_0"), Error);
  EXPECT_EQ(KvRowBytes(KvType::kF16, 576), 1152u);
  EXPECT_EQ(KvRowBytes(KvType::kQ8_0, 576), 18u * 34);
  EXPECT_EQ(KvRowBytes(KvType::kF32, 10), 40u);
  EXPECT_NO_THROW(CheckKvType(KvType::kQ8_0, 64, "head_dim"));
  EXPECT_THROW(CheckKvType(KvType::kQ8_0, 16, "head_dim"), Error);
  EXPECT_NO_THROW(CheckKvType(KvType::kF16, 13, "head_dim"));
  EXPECT_EQ(std::string(kDefaultKvType == KvType::kF16 ? "f16" : "?"), KvTypeName(kDefaultKvType));
}

}  // namespace
}  // namespace seek

// Attention micro-benchmark: the scalar reference (seek's first attention loop) against the flash-style AVX2
// kernel (kernels/attention/), per KV cache type, on TinyLlama-1.1B's shape (32 query heads, 4 KV heads,
// head_dim 64) and DeepSeek-V2-Lite's absorbed MLA decode (16 heads over one shared 576-value latent row,
// V = its first 512 values), on 1- and 2-thread pools. One call = one layer.
//   decode/<n_kv>:  1 query token over n_kv cached positions (multiply by n_layer for a token's attention)
//   prefill/<n>:    n query tokens from an empty cache (causal)
//
//   build/bench/attention_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/attention/attention.h"
#include "kernels/dispatch.h"
#include "kernels/ref/attention.h"

namespace seek {
namespace {

ThreadPool& Pool(int threads) {
  static ThreadPool pool1(1), pool2(2);
  return threads == 1 ? pool1 : pool2;
}

struct Shape {
  const char* name;
  int32_t n_head, n_head_kv, dk, dv;
  bool v_in_k;
};
constexpr Shape kTinyLlama = {"tinyllama", 32, 4, 64, 64, false};
constexpr Shape kV2LiteMla = {"v2lite_mla", 16, 1, 576, 512, true};

void Run(benchmark::State& state, const Shape& s, KvType type, bool fast, int threads, int32_t n_tokens,
         int32_t pos0) {
  const KernelTable* table = fast ? FindKernels("avx2") : &ScalarKernels();
  if (!table) {
    state.SkipWithError("no avx2 table");
    return;
  }
  const int64_t n_kv = int64_t(pos0) + n_tokens, kdim = int64_t(s.n_head_kv) * s.dk,
                vdim = int64_t(s.n_head_kv) * s.dv;
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> row(size_t(std::max(kdim, vdim)));
  // Head-major, as the GQA KvCache stores it (model/blocks/attention.h): head g's rows are one run of n_kv.
  const size_t krow = KvRowBytes(type, kdim), vrow = KvRowBytes(type, vdim);  // all heads of a position
  const size_t khead = KvRowBytes(type, s.dk), vhead = KvRowBytes(type, s.dv);
  std::vector<uint8_t> k(size_t(n_kv) * krow), v(size_t(n_kv) * vrow);
  for (int64_t p = 0; p < n_kv; ++p) {
    for (float& x : row) x = dist(rng);
    for (int64_t g = 0; g < s.n_head_kv; ++g)
      KvStoreRowRef(type, row.data() + g * s.dk, k.data() + size_t(g * n_kv + p) * khead, s.dk);
    for (float& x : row) x = dist(rng);
    for (int64_t g = 0; g < s.n_head_kv; ++g)
      KvStoreRowRef(type, row.data() + g * s.dv, v.data() + size_t(g * n_kv + p) * vhead, s.dv);
  }
  std::vector<float> q(size_t(n_tokens) * s.n_head * s.dk), out(size_t(n_tokens) * s.n_head * s.dv);
  for (float& x : q) x = dist(rng);
  AttentionParams p;
  p.q = q.data();
  p.out = out.data();
  p.k = KvRows{type, k.data(), khead, size_t(n_kv) * khead, 0};
  p.v = s.v_in_k ? p.k : KvRows{type, v.data(), vhead, size_t(n_kv) * vhead, 0};
  p.n_tokens = n_tokens;
  p.n_head = s.n_head;
  p.n_head_kv = s.n_head_kv;
  p.dk = s.dk;
  p.dv = s.dv;
  p.pos0 = pos0;
  p.scale = 1.0f / std::sqrt(float(s.dk));
  ThreadPool& pool = Pool(threads);
  for (auto _ : state) {
    table->attention->attend(p, &pool);
    benchmark::DoNotOptimize(out.data());
  }
  // Cache bytes read per call (each visible row once per KV head group) and score+value flops.
  const double pairs = double(n_tokens) * pos0 + double(n_tokens) * (n_tokens + 1) / 2;
  state.counters["GB/s"] =
      benchmark::Counter(double(n_tokens == 1 ? n_kv * (krow + (s.v_in_k ? 0 : vrow)) : 0),
                         benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * pairs * s.n_head * (s.dk + s.dv) / 1e9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void Register() {
  for (const Shape* s : {&kTinyLlama, &kV2LiteMla}) {
    for (KvType type : {KvType::kF32, KvType::kF16, KvType::kQ8_0}) {
      for (bool fast : {false, true}) {
        for (int threads : {1, 2}) {
          const std::string tag = std::string(s->name) + "/" + KvTypeName(type) + "/" +
                                  (fast ? "avx2" : "scalar") + "/t" + std::to_string(threads);
          for (int32_t n_kv : {512, 2048}) {
            benchmark::RegisterBenchmark(
                ("decode/" + tag + "/" + std::to_string(n_kv)).c_str(),
                [=](benchmark::State& st) { Run(st, *s, type, fast, threads, 1, n_kv - 1); })
                ->Unit(benchmark::kMicrosecond);
          }
          if (s == &kTinyLlama) {
            benchmark::RegisterBenchmark(("prefill/" + tag + "/512").c_str(), [=](benchmark::State& st) {
              Run(st, *s, type, fast, threads, 512, 0);
            })->Unit(benchmark::kMillisecond);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace seek

int main(int argc, char** argv) {
  seek::Register();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

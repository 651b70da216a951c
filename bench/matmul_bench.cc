// MatMul micro-benchmark: GEMV (decode, 1 token) and GEMM (prefill, 64 tokens) per weight type on
// TinyLlama-1.1B shapes (n_in x n_out: 2048x2048 attention, 2048x5632 gate/up, 5632x2048 down), for each
// kernel table (scalar reference, avx2, and "avx2-repack" = avx2 on weights repacked as at load) on a 1-thread and a 2-thread pool (the target machine has 2 cores);
// plus one MoE decode layer, a MatMul per multiply vs MatMulMany ("moe-each", "moe-many").
//
// Figures: GEMV reports bytes/s of weights streamed (decode is memory-bound: compare with the machine's
// streaming-read bandwidth, "read/t1", "read/t2"); gemv2/4/8 (2, 4, 8 tokens: speculative decoding and
// continuous batching) report the same bytes/s, so a flat figure x n means the batch costs n times one token;
// GEMM reports FLOP/s (2 * n_in * n_out * n_tokens per call). GEMV cycles
// through enough copies of the weights (>= 3x a 32 MiB L3) that they stream from DRAM, as in a real model.
//
//   build/bench/matmul_bench --benchmark_filter='avx2' --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/dispatch.h"
#include "kernels/matmul/matmul.h"
#include "kernels/matmul/repack.h"

namespace seek {
namespace {

constexpr size_t kStreamBytes = 112u << 20;  // GEMV weight copies: >= 3.5x L3 (32 MiB)
constexpr int64_t kPrefillTokens = 64;

ThreadPool& Pool(int threads) {
  static ThreadPool pool1(1), pool2(2);
  return threads == 1 ? pool1 : pool2;
}

// Random weight bytes of type t with sane fp16 scales (values do not affect speed, NaNs could).
std::vector<uint8_t> RandomWeights(DType t, int64_t n_in, int64_t n_out, uint64_t seed) {
  const size_t row_bytes = *RowBytes(t, n_in);
  std::vector<uint8_t> w(row_bytes * size_t(n_out));
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i + 8 <= w.size(); i += 8) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    std::memcpy(&w[i], &s, 8);
  }
  const DTypeTraits& tr = Traits(t);
  auto put = [&](size_t off, float f) {
    const uint16_t h = (t == DType::kBF16) ? F32ToBF16(f) : F32ToFP16(f);
    std::memcpy(&w[off], &h, 2);
  };
  if (!tr.quantized) {
    if (t == DType::kF32) {
      for (size_t i = 0; i < w.size(); i += 4) { const float f = float(int8_t(w[i])) / 128; std::memcpy(&w[i], &f, 4); }
    } else {
      for (size_t i = 0; i < w.size(); i += 2) put(i, float(int8_t(w[i])) / 128);
    }
    return w;
  }
  size_t d_off = 0, m_off = SIZE_MAX;
  switch (t) {
    case DType::kQ4_1: case DType::kQ5_1: case DType::kQ4_K: case DType::kQ5_K: m_off = 2; break;
    case DType::kQ6_K: d_off = 208; break;
    case DType::kQ2_K: d_off = 80, m_off = 82; break;
    case DType::kQ3_K: d_off = 108; break;
    default: break;
  }
  for (size_t off = 0; off < w.size(); off += tr.type_size) {
    put(off + d_off, 0.01f);
    if (m_off != SIZE_MAX) put(off + m_off, 0.01f);
  }
  return w;
}

struct Case {
  const KernelTable* table;
  DType type;
  int64_t n_in, n_out, n_tokens;
  int threads;
  bool repack = false;  // weights in the table's preferred layout (kernels/matmul/repack.h), as after loading
};

void Run(benchmark::State& state, Case c) {
  const size_t row_bytes = *RowBytes(c.type, c.n_in);
  const size_t bytes = row_bytes * size_t(c.n_out);
  const size_t copies = c.n_tokens <= 8 ? std::max<size_t>(1, kStreamBytes / bytes) : 1;
  std::vector<std::vector<uint8_t>> w;
  const WeightLayout layout =
      c.repack ? PreferredLayout(*c.table, c.type, c.n_in, c.n_out) : WeightLayout::kRows;
  for (size_t i = 0; i < copies; ++i) {
    w.push_back(RandomWeights(c.type, c.n_in, c.n_out, i + 1));
    if (layout != WeightLayout::kRows) {
      std::vector<uint8_t> packed(RepackedBytes(layout, c.type, c.n_in, c.n_out));
      RepackWeight(MatMulWeight{c.type, w.back().data(), row_bytes, c.n_in, c.n_out}, layout, packed.data(), nullptr);
      w.back() = std::move(packed);
    }
  }
  std::vector<float> x(size_t(c.n_in * c.n_tokens)), y(size_t(c.n_out * c.n_tokens));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 2654435761u % 2001) - 1000) / 1000.0f;
  size_t i = 0;
  for (auto _ : state) {
    const MatMulWeight mw{c.type, w[i].data(), row_bytes, c.n_in, c.n_out, layout};
    c.table->matmul(mw, x.data(), y.data(), c.n_tokens, &Pool(c.threads));
    benchmark::DoNotOptimize(y.data());
    i = (i + 1) % copies;
  }
  if (c.n_tokens <= 8) {
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes));
  } else {
    state.counters["FLOP/s"] = benchmark::Counter(2.0 * double(c.n_in * c.n_out * c.n_tokens),
                                                 benchmark::Counter::kIsIterationInvariantRate);
  }
}

// One DeepSeek-V2-Lite MoE layer in decode (model/blocks/moe.cc): 6 of kMoeExperts routed experts (gate, up:
// 2048 -> 1408; down: 1408 -> 2048) plus the shared experts (2048 -> 2816 -> 2048), one token, weights
// repacked as at load. "moe-each" runs the 21 multiplies one MatMul at a time (21 dispatches), "moe-many" as
// two MatMulMany (gate+up, then down), as MoeFeedForward does. Bytes/s of weights streamed. "moe-each24" /
// "moe-many24": the same with 24 tokens per expert (a prefill's share).
constexpr int kMoeExperts = 24;  // 24 x 3 x 1.6 MB (Q4_0): streams from DRAM

void MoeDecode(benchmark::State& state, const KernelTable* table, DType type, int threads, bool many, int64_t n) {
  const int64_t n_embd = 2048, n_ff = 1408, n_ff_sh = 2816;
  struct Owned { std::vector<uint8_t> bytes; MatMulWeight w; };
  auto make = [&](int64_t n_in, int64_t n_out, uint64_t seed) {
    Owned o{RandomWeights(type, n_in, n_out, seed), {}};
    o.w = MatMulWeight{type, o.bytes.data(), *RowBytes(type, n_in), n_in, n_out};
    const WeightLayout layout = PreferredLayout(*table, type, n_in, n_out);
    if (layout != WeightLayout::kRows) {
      std::vector<uint8_t> packed(RepackedBytes(layout, type, n_in, n_out));
      RepackWeight(o.w, layout, packed.data(), nullptr);
      o.bytes = std::move(packed);
      o.w.data = o.bytes.data();
      o.w.layout = layout;
    }
    return o;
  };
  std::vector<Owned> gate, up, down;
  for (int e = 0; e < kMoeExperts + 1; ++e) {  // the last one: the shared experts
    const int64_t ff = e == kMoeExperts ? n_ff_sh : n_ff;
    gate.push_back(make(n_embd, ff, 3 * e + 1));
    up.push_back(make(n_embd, ff, 3 * e + 2));
    down.push_back(make(ff, n_embd, 3 * e + 3));
  }
  std::vector<float> x(size_t(n * n_embd), 0.01f), g(size_t(7 * n * n_ff_sh)), u(g.size()), y(size_t(7 * n * n_embd));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 2654435761u % 2001) - 1000) / 1000.0f;
  size_t bytes = 0;
  int first = 0;
  std::vector<MatMulJob> gu, dn;
  for (auto _ : state) {
    gu.clear();
    dn.clear();
    for (int k = 0; k < 7; ++k) {  // 6 routed (a sliding window over the experts) + shared
      const int e = k == 6 ? kMoeExperts : (first + k) % kMoeExperts;
      gu.push_back({gate[size_t(e)].w, x.data(), g.data() + k * n * n_ff_sh, n});
      gu.push_back({up[size_t(e)].w, x.data(), u.data() + k * n * n_ff_sh, n});
      dn.push_back({down[size_t(e)].w, g.data() + k * n * n_ff_sh, y.data() + k * n * n_embd, n});
    }
    first = (first + 6) % kMoeExperts;
    if (many) {
      table->matmul_many(gu, &Pool(threads));
      table->matmul_many(dn, &Pool(threads));
    } else {
      for (const MatMulJob& j : gu) table->matmul(j.w, j.x, j.y, n, &Pool(threads));
      for (const MatMulJob& j : dn) table->matmul(j.w, j.x, j.y, n, &Pool(threads));
    }
    benchmark::DoNotOptimize(y.data());
    if (bytes == 0)
      for (const auto* js : {&gu, &dn})
        for (const MatMulJob& j : *js) bytes += j.w.row_bytes * size_t(j.w.n_out);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes));
}

// The plain streaming read the GEMVs are measured against: sums 64-bit words of the same bytes, split over
// the pool like a GEMV.
void Read(benchmark::State& state, int threads) {
  std::vector<uint64_t> buf(kStreamBytes / 8, 1);
  const int64_t chunk = 1 << 16;  // words per piece
  const int64_t n = int64_t(buf.size()) / chunk;
  std::vector<uint64_t> sums(static_cast<size_t>(n));
  for (auto _ : state) {
    Pool(threads).ParallelFor(n, [&](int64_t b, int64_t e, int) {
      for (int64_t k = b; k < e; ++k) {
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        const uint64_t* p = buf.data() + k * chunk;
        for (int64_t j = 0; j < chunk; j += 4) s0 += p[j], s1 += p[j + 1], s2 += p[j + 2], s3 += p[j + 3];
        sums[size_t(k)] = s0 + s1 + s2 + s3;
      }
    });
    benchmark::DoNotOptimize(sums.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(kStreamBytes));
}

int RegisterAll() {
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark(("read/t" + std::to_string(threads)).c_str(), Read, threads)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
  if (const KernelTable* avx2 = FindKernels("avx2")) {
    for (DType t : {DType::kQ4_0, DType::kQ5_0, DType::kQ8_0}) {  // (Q4_K needs n_in % 256 == 0: not 1408)
      for (int64_t n : {1, 24}) {  // decode; a prefill's ~24 tokens per chosen expert (256 tokens x 6 / 64)
        for (int threads : {1, 2}) {
          for (bool many : {false, true}) {
            const std::string name = std::string(many ? "moe-many" : "moe-each") + (n > 1 ? std::to_string(n) : "") +
                                     "/avx2-repack/" + DTypeName(t) + "/t" + std::to_string(threads);
            auto* b = benchmark::RegisterBenchmark(name.c_str(), MoeDecode, avx2, t, threads, many, n)
                          ->Unit(benchmark::kMicrosecond);
            if (threads > 1) b->UseRealTime();
          }
        }
      }
    }
  }
  const DType types[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_1,
                         DType::kQ5_0, DType::kQ5_1, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};
  // (+ 1408x2048: a DeepSeek-V2-Lite routed expert's down matrix, Q5_0 in llama.cpp's Q4_K_M files; for the
  // legacy types and the avx2 tables only.)
  const int64_t shapes[][2] = {{2048, 2048}, {2048, 5632}, {5632, 2048}, {1408, 2048}};
  for (const char* isa_name : {"avx2-repack", "avx2", "scalar"}) {
    const std::string isa = isa_name;
    const bool repack = isa == "avx2-repack";
    const KernelTable* table = FindKernels(repack ? "avx2" : isa);
    if (!table) continue;
    for (DType t : types) {
      for (const auto& s : shapes) {
        if (s[0] == 1408 && (isa == "scalar" || Traits(t).block_size != 32 || !Traits(t).quantized)) continue;
        for (int64_t n_tokens : {int64_t(1), int64_t(2), int64_t(4), int64_t(8), kPrefillTokens}) {
          for (int threads : {1, 2}) {
            const std::string name = (n_tokens == 1 ? "gemv/" : n_tokens <= 8 ? "gemv" + std::to_string(n_tokens) + "/"
                                                                              : std::string("gemm/")) +
                                     isa + "/" + DTypeName(t) +
                                     "/" + std::to_string(s[0]) + "x" + std::to_string(s[1]) + "/t" +
                                     std::to_string(threads);
            auto* b = benchmark::RegisterBenchmark(name.c_str(), Run, Case{table, t, s[0], s[1], n_tokens, threads, repack})
                          ->Unit(benchmark::kMicrosecond);
            // One thread: rates from CPU time, robust on a shared machine. Two: wall time (the workers' CPU
            // time is not visible to the benchmark).
            if (threads > 1) b->UseRealTime();
          }
        }
      }
    }
  }
  return 0;
}

const int kRegistered = RegisterAll();

}  // namespace
}  // namespace seek

BENCHMARK_MAIN();

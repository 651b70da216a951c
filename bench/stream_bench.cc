// Decode streaming efficiency per weight type: how close each GEMV kernel gets to the machine's read
// bandwidth when its weights stream from DRAM, as in a model's decode step.
//
// For each type given, a TinyLlama-1.1B-shaped stack of matrices (22 layers x q, k, v, o, gate, up, down:
// 2048x2048, 2048x256 x2, 2048x2048, 2048x5632 x2, 5632x2048), random weights with sane scales, in the layout
// the avx2 table prefers (repacked as at load, into 2 MiB huge-page-advised memory like RepackArena). One
// round = one pass over every stack (one token each, every matrix once) and one plain read of a buffer of
// similar size; rounds repeat, so each type's pass has a read probe taken seconds away. Prints per type the
// median GB/s of bytes actually streamed (the repacked size) and the median of each round's ratio to that
// round's read probe: ratios in one round are what mean something on a machine whose bandwidth drifts.
//
//   build/bench/stream_bench [-t THREADS] [-r ROUNDS] [-n TOKENS] TYPE[+il] ...
//   e.g. stream_bench -t 2 -r 9 q4_0 q8_0 q4_K q6_K
// "+il" forces the interleaved layout where the table would keep rows (Q6_K).
// Two more reads per round: the same buffer with 32-byte loads (the shape of `seek bench --machine`'s probe,
// which compare_llamacpp.py pairs with each decode), and the first stack's own bytes read matrix by matrix in
// 8-row groups through the pool, as the kernels walk them: kernel / that row is what the arithmetic costs,
// that row / the wide read what the per-matrix structure (barriers, short streams) costs.
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/dtype.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/dispatch.h"
#include "kernels/matmul/repack.h"

namespace seek {
namespace {

// Bump allocator over one huge-page-advised mapping (never freed: the process is short).
class Arena {
 public:
  explicit Arena(size_t cap) : cap_(cap) {
    base_ = static_cast<uint8_t*>(mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
    if (base_ == MAP_FAILED) std::abort();
    madvise(base_, cap, MADV_HUGEPAGE);
  }
  uint8_t* Take(size_t n) {
    if (used_ + n > cap_) std::abort();
    uint8_t* p = base_ + used_;
    used_ += (n + 4095) & ~size_t(4095);
    return p;
  }

 private:
  uint8_t* base_;
  size_t cap_, used_ = 0;
};

struct Stack {
  std::string name;
  std::vector<MatMulWeight> weights;
  size_t bytes = 0;  // streamed per pass (repacked size)
};

uint64_t Next(uint64_t& s) {
  s ^= s << 13, s ^= s >> 7, s ^= s << 17;
  return s;
}

// Random bytes with every block's fp16 scale (and Q4_1/Q5_1/Q4_K min) set to 0.01: no NaN or Inf.
void FillRandom(DType t, uint8_t* w, size_t n, uint64_t& seed) {
  for (size_t i = 0; i < n; ++i) w[i] = uint8_t(Next(seed));
  const uint16_t h = F32ToFP16(0.01f);
  const size_t bb = Traits(t).type_size;
  const size_t d_off = t == DType::kQ6_K ? 208 : 0;  // Q6_K's d is its last field
  const bool has_min = t == DType::kQ4_1 || t == DType::kQ5_1 || t == DType::kQ4_K || t == DType::kQ5_K;
  for (size_t o = 0; o + bb <= n; o += bb) {
    std::memcpy(w + o + d_off, &h, 2);
    if (has_min) std::memcpy(w + o + 2, &h, 2);
  }
}

Stack MakeStack(const KernelTable& table, const std::string& spec, Arena& arena, uint64_t seed) {
  std::string name = spec;
  const bool force_il = name.size() > 3 && name.compare(name.size() - 3, 3, "+il") == 0;
  if (force_il) name.resize(name.size() - 3);
  const auto t = DTypeFromName(name);
  if (!t || !Traits(*t).quantized) {
    std::fprintf(stderr, "stream_bench: not a quantized type: %s\n", spec.c_str());
    std::exit(2);
  }
  Stack st{spec, {}, 0};
  const int64_t shapes[][2] = {{2048, 2048}, {2048, 256}, {2048, 256}, {2048, 2048}, {2048, 5632}, {2048, 5632}, {5632, 2048}};
  std::vector<uint8_t> raw;
  for (int layer = 0; layer < 22; ++layer) {
    for (const auto& s : shapes) {
      const size_t row_bytes = *RowBytes(*t, s[0]);
      raw.resize(row_bytes * size_t(s[1]));
      FillRandom(*t, raw.data(), raw.size(), seed);
      MatMulWeight w{*t, raw.data(), row_bytes, s[0], s[1]};
      WeightLayout layout = PreferredLayout(table, *t, s[0], s[1]);
      if (force_il && CanRepack(WeightLayout::kInterleaved8, *t)) layout = WeightLayout::kInterleaved8;
      if (layout == WeightLayout::kRows) {
        uint8_t* dst = arena.Take(raw.size());
        std::memcpy(dst, raw.data(), raw.size());
        w.data = dst;
        st.bytes += raw.size();
      } else {
        const size_t n = RepackedBytes(layout, *t, s[0], s[1]);
        uint8_t* dst = arena.Take(n);
        RepackWeight(w, layout, dst, nullptr);
        w.data = dst;
        w.layout = layout;
        st.bytes += n;
      }
      st.weights.push_back(w);
    }
  }
  return st;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// XOR of n 64-bit words read as 32-byte loads, four per 128-byte step (the shape of `seek bench --machine`'s
// read probe); n is a multiple of 16.
__attribute__((target("avx2"))) uint64_t WideRead(const uint64_t* p, int64_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i < n; i += 16) {
    const __m256i* q = reinterpret_cast<const __m256i*>(p + i);
    a0 = _mm256_xor_si256(a0, _mm256_load_si256(q));
    a1 = _mm256_xor_si256(a1, _mm256_load_si256(q + 1));
    a2 = _mm256_xor_si256(a2, _mm256_load_si256(q + 2));
    a3 = _mm256_xor_si256(a3, _mm256_load_si256(q + 3));
  }
  const __m256i a = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
  return uint64_t(_mm256_extract_epi64(a, 0)) ^ uint64_t(_mm256_extract_epi64(a, 3));
}

int Main(int argc, char** argv) {
  CLI::App app{"decode streaming efficiency per weight type against the read bandwidth"};
  int threads = 2, rounds = 9, tokens = 1;
  std::vector<std::string> types;
  app.add_option("-t,--threads", threads, "threads")->check(CLI::Range(1, 256));
  app.add_option("-r,--rounds", rounds, "rounds (median over them)")->check(CLI::Range(1, 1000));
  app.add_option("-n,--tokens", tokens, "tokens per multiply (1 = decode)")->check(CLI::Range(1, 64));
  app.add_option("types", types, "weight types, e.g. q4_0 q8_0 q4_K q6_K (q6_K+il: force interleaved)")->required();
  CLI11_PARSE(app, argc, argv);

  const KernelTable* table = FindKernels("avx2");
  if (!table) table = &ActiveKernels();
  Arena arena(size_t(types.size() + 1) * (size_t(1400) << 20));
  std::vector<Stack> stacks;
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  for (const std::string& spec : types) stacks.push_back(MakeStack(*table, spec, arena, seed += 17));

  const size_t read_bytes = size_t(640) << 20;
  auto* buf = reinterpret_cast<uint64_t*>(arena.Take(read_bytes));
  for (size_t i = 0; i < read_bytes / 8; ++i) buf[i] = i;
  ThreadPool pool(threads);
  std::vector<float> x(size_t(5632) * size_t(tokens)), y(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 2654435761u % 2001) - 1000) / 1000.0f;

  std::vector<std::vector<double>> rate(stacks.size());
  std::vector<double> read_rate, wide_rate, mat_rate;
  std::vector<uint64_t> sums(size_t(threads) * 8);
  for (int r = 0; r < rounds; ++r) {
    for (size_t i = 0; i < stacks.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      for (const MatMulWeight& w : stacks[i].weights) table->matmul(w, x.data(), y.data(), tokens, &pool);
      rate[i].push_back(double(stacks[i].bytes) / Seconds(t0) / 1e9);
    }
    // The plain read: 64 KiB pieces claimed like a GEMV's rows, four independent 64-bit sums per thread.
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t piece = 8192;
    pool.ParallelFor(int64_t(read_bytes / 8) / piece, [&](int64_t b, int64_t e, int th) {
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (int64_t i = b * piece; i < e * piece; i += 4) s0 += buf[i], s1 += buf[i + 1], s2 += buf[i + 2], s3 += buf[i + 3];
      sums[size_t(th) * 8] += s0 + s1 + s2 + s3;
    });
    read_rate.push_back(double(read_bytes) / Seconds(t0) / 1e9);
    // The wide read: 32-byte loads, four per 128-byte step (the shape of `seek bench --machine`'s probe).
    const auto t1 = std::chrono::steady_clock::now();
    pool.ParallelFor(int64_t(read_bytes / 8) / piece, [&](int64_t b, int64_t e, int th) {
      sums[size_t(th) * 8 + 1] += WideRead(buf + b * piece, (e - b) * piece);
    });
    wide_rate.push_back(double(read_bytes) / Seconds(t1) / 1e9);
    // The first stack's bytes read as the kernels walk them: one ParallelFor per matrix, 8-row groups.
    const auto t2 = std::chrono::steady_clock::now();
    for (const MatMulWeight& w : stacks[0].weights) {
      const size_t gbytes = RepackedBytes(w.layout, w.type, w.n_in, 8);
      pool.ParallelFor(w.n_out / 8, [&](int64_t b, int64_t e, int th) {
        const auto* p = reinterpret_cast<const uint64_t*>(static_cast<const uint8_t*>(w.data) + b * gbytes);
        sums[size_t(th) * 8 + 2] += WideRead(p, int64_t((e - b) * gbytes / 8) & ~int64_t(15));
      }, 2);
    }
    mat_rate.push_back(double(stacks[0].bytes) / Seconds(t2) / 1e9);
  }
  // Median over rounds of a rate's ratio to the same round's probe.
  auto ratio = [&](const std::vector<double>& v, const std::vector<double>& probe) {
    std::vector<double> q;
    for (int r = 0; r < rounds; ++r) q.push_back(v[size_t(r)] / probe[size_t(r)]);
    return Median(q);
  };
  auto row = [&](const std::string& name, double mb, const std::vector<double>& v) {
    std::printf("| %s | %.1f | %.2f (%.2f-%.2f) | %.3f | %.3f |\n", name.c_str(), mb, Median(v),
                *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()), ratio(v, read_rate),
                ratio(v, wide_rate));
  };
  std::printf("| type | MB per pass | GB/s median (min-max) | of the read probe | of the wide read |\n"
              "|---|---|---|---|---|\n");
  for (size_t i = 0; i < stacks.size(); ++i) row(stacks[i].name, double(stacks[i].bytes) / 1e6, rate[i]);
  row("read probe (8-byte loads)", double(read_bytes) / 1e6, read_rate);
  row("wide read (32-byte loads)", double(read_bytes) / 1e6, wide_rate);
  row(stacks[0].name + " bytes, wide read per matrix", double(stacks[0].bytes) / 1e6, mat_rate);
  std::printf("(%d threads, %d token(s) per multiply, %d rounds; checksum %llu)\n", threads, tokens, rounds,
              static_cast<unsigned long long>(sums[0] & 1));
  return 0;
}

}  // namespace
}  // namespace seek

int main(int argc, char** argv) { return seek::Main(argc, argv); }

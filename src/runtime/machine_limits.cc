// Memory-bandwidth and arithmetic-peak probes (see machine_limits.h for what each measures and why).
#include "runtime/machine_limits.h"

#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace seek {
namespace {

using Clock = std::chrono::steady_clock;

// Results of every probe land here, so the compiler must compute them (and so perform every load).
volatile uint64_t g_sink_u64 = 0;
volatile float g_sink_f32 = 0;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

bool HasAvx2Fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// ---- read bandwidth -------------------------------------------------------------------------------------

constexpr size_t kLine = 128;  // bytes per loop step: four 32-byte loads

__attribute__((target("avx2"))) uint64_t ReadSliceAvx2(const uint8_t* p, size_t n_steps) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < n_steps; ++i, p += kLine) {
    a0 = _mm256_xor_si256(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p)));
    a1 = _mm256_xor_si256(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 32)));
    a2 = _mm256_xor_si256(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 64)));
    a3 = _mm256_xor_si256(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 96)));
  }
  const __m256i a = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
  return uint64_t(_mm256_extract_epi64(a, 0)) ^ uint64_t(_mm256_extract_epi64(a, 1)) ^
         uint64_t(_mm256_extract_epi64(a, 2)) ^ uint64_t(_mm256_extract_epi64(a, 3));
}

uint64_t ReadSliceScalar(const uint8_t* p, size_t n_steps) {
  uint64_t a[kLine / 8] = {};
  for (size_t i = 0; i < n_steps; ++i, p += kLine) {
    for (size_t j = 0; j < kLine / 8; ++j) {
      uint64_t v;
      std::memcpy(&v, p + 8 * j, 8);
      a[j] ^= v;
    }
  }
  uint64_t r = 0;
  for (uint64_t v : a) r ^= v;
  return r;
}

// One pass over the whole buffer with every thread; returns GB/s.
double ReadPass(ThreadPool& pool, const uint8_t* buf, size_t bytes, bool simd) {
  const int64_t n_steps = int64_t(bytes / kLine);
  std::vector<uint64_t> partial(size_t(pool.size()), 0);
  const auto t0 = Clock::now();
  pool.ParallelFor(
      n_steps,
      [&](int64_t begin, int64_t end, int tid) {
        const uint8_t* p = buf + size_t(begin) * kLine;
        partial[size_t(tid)] ^=
            simd ? ReadSliceAvx2(p, size_t(end - begin)) : ReadSliceScalar(p, size_t(end - begin));
      },
      /*grain=*/4096 / int64_t(kLine));
  const double s = Seconds(t0, Clock::now());
  uint64_t r = 0;
  for (uint64_t v : partial) r ^= v;
  g_sink_u64 = r;
  return double(n_steps) * kLine / s / 1e9;
}

// ---- FMA peak ---------------------------------------------------------------------------------------------

constexpr int kFmaChains = 12;

// Runs `iters` rounds of kFmaChains independent FMAs on 8 floats each; returns flops done.
__attribute__((target("avx2,fma"))) double FmaLoopAvx2(int64_t iters) {
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  __m256 a[kFmaChains];
  for (int j = 0; j < kFmaChains; ++j) a[j] = _mm256_set1_ps(1.0f + 0.01f * float(j));
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int j = 0; j < kFmaChains; ++j) a[j] = _mm256_fmadd_ps(a[j], m, c);
  }
  __m256 s = a[0];
  for (int j = 1; j < kFmaChains; ++j) s = _mm256_add_ps(s, a[j]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  g_sink_f32 = out[0] + out[7];
  return double(iters) * kFmaChains * 16.0;
}

double FmaLoopScalar(int64_t iters) {
  float a[kFmaChains];
  for (int j = 0; j < kFmaChains; ++j) a[j] = 1.0f + 0.01f * float(j);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int j = 0; j < kFmaChains; ++j) a[j] = a[j] * 0.999999f + 1e-7f;
  }
  float s = 0;
  for (float v : a) s += v;
  g_sink_f32 = s;
  return double(iters) * kFmaChains * 2.0;
}

// ---- int8 multiply-add peak
// --------------------------------------------------------------------------------

constexpr int kInt8Chains = 6;  // 6 y + 6 acc + x + ones fit in the 16 ymm registers

__attribute__((target("avx2"))) double Int8LoopAvx2(int64_t iters) {
  __m256i x = _mm256_set1_epi8(3);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i y[kInt8Chains], acc[kInt8Chains];
  for (int j = 0; j < kInt8Chains; ++j) {
    y[j] = _mm256_set1_epi8(static_cast<char>(j + 1));  // non-zero: a zero product would be folded away
    acc[j] = _mm256_setzero_si256();
  }
  for (int64_t i = 0; i < iters; ++i) {
    // An empty asm that "changes" x: the products below cannot be hoisted out of the loop.
    asm volatile("" : "+x"(x));
#pragma GCC unroll 16
    for (int j = 0; j < kInt8Chains; ++j) {
      acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(_mm256_maddubs_epi16(x, y[j]), ones));
    }
  }
  __m256i s = acc[0];
  for (int j = 1; j < kInt8Chains; ++j) s = _mm256_add_epi32(s, acc[j]);
  g_sink_u64 = uint64_t(_mm256_extract_epi64(s, 0)) ^ uint64_t(_mm256_extract_epi64(s, 3));
  return double(iters) * kInt8Chains * 64.0;
}

// Runs `loop` on every thread at once; returns total ops per second / 1e9.
double AllThreads(ThreadPool& pool, double (*loop)(int64_t), int64_t iters) {
  std::vector<double> ops(size_t(pool.size()), 0);
  const auto t0 = Clock::now();
  pool.ParallelFor(pool.size(), [&](int64_t begin, int64_t end, int tid) {
    for (int64_t k = begin; k < end; ++k) ops[size_t(tid)] += loop(iters);
  });
  const double s = Seconds(t0, Clock::now());
  double total = 0;
  for (double v : ops) total += v;
  return total / s / 1e9;
}

double OneThread(double (*loop)(int64_t), int64_t iters) {
  const auto t0 = Clock::now();
  const double ops = loop(iters);
  return ops / Seconds(t0, Clock::now()) / 1e9;
}

template <typename Fn>
Stats Repeat(int runs, Fn fn) {
  fn();  // warm-up: page faults, frequency ramp, thread start-up
  std::vector<double> v;
  for (int i = 0; i < runs; ++i) v.push_back(fn());
  return Summarize(std::move(v));
}

}  // namespace

Stats Summarize(std::vector<double> samples) {
  Stats s;
  s.samples = samples;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  s.min = samples.front();
  s.max = samples.back();
  s.median = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  double sum = 0;
  for (double v : samples) sum += v;
  s.mean = sum / double(n);
  double ss = 0;
  for (double v : samples) ss += (v - s.mean) * (v - s.mean);
  s.stdev = n > 1 ? std::sqrt(ss / double(n - 1)) : 0.0;
  return s;
}

ReadProbe::ReadProbe(ThreadPool& pool, size_t buffer_bytes, bool allow_simd)
    : pool_(pool), bytes_(buffer_bytes / 4096 * 4096), simd_(allow_simd && HasAvx2Fma()) {
  if (bytes_ < 4096 * size_t(pool.size()))
    Fail("machine probe: buffer of %zu bytes is too small", buffer_bytes);
  constexpr size_t kHuge = size_t(2) << 20;  // 2 MiB-aligned, so every page of it can be a huge page
  const size_t alloc = (bytes_ + kHuge - 1) / kHuge * kHuge;
  buf_ = static_cast<uint8_t*>(std::aligned_alloc(kHuge, alloc));
  if (!buf_) Fail("machine probe: cannot allocate %zu bytes", bytes_);
  // Huge pages where the kernel offers them, as for the repacked weights (RepackArena): with 4 KB pages the
  // probe read 2-40% slower (in alternating runs), which would have understated the limit decode is set
  // against.
  ::madvise(buf_, alloc, MADV_HUGEPAGE);  // advice only: an error leaves 4 KB pages
  // First touch from the threads that will read each slice (the same split as ReadPass), with varied bytes.
  uint8_t* p = buf_;
  pool.ParallelFor(
      int64_t(bytes_ / kLine),
      [&](int64_t begin, int64_t end, int) {
        for (int64_t i = begin; i < end; ++i)
          std::memset(p + size_t(i) * kLine, int(i * 131 + 7) & 0xff, kLine);
      },
      4096 / int64_t(kLine));
}

ReadProbe::~ReadProbe() {
  std::free(buf_);
}

double ReadProbe::Pass() {
  ++passes_;
  return ReadPass(pool_, buf_, bytes_, simd_);
}

MachineLimits MeasureMachine(ThreadPool& pool, const MachineProbeOptions& options) {
  if (options.runs < 1) Fail("machine probe: runs must be at least 1 (got %d)", options.runs);
  MachineLimits r;
  r.threads = pool.size();
  bool simd = false;
  {
    ReadProbe probe(pool, options.buffer_bytes, options.allow_simd);
    simd = probe.simd();
    r.buffer_bytes = probe.bytes();
    r.read_gbps = Repeat(options.runs, [&] { return probe.Pass(); });
  }
  r.isa = simd ? "avx2+fma" : "scalar";

  // About 2e8 chain steps per thread and run: ~0.05-0.2 s on current cores.
  const int64_t fma_iters = simd ? 20'000'000 : 5'000'000;
  auto* fma = simd ? &FmaLoopAvx2 : &FmaLoopScalar;
  r.fma_gflops = Repeat(options.runs, [&] { return AllThreads(pool, fma, fma_iters); });
  r.fma_gflops_1t = Repeat(options.runs, [&] { return OneThread(fma, fma_iters); }).median;
  if (simd) r.int8_gops = Repeat(options.runs, [&] { return AllThreads(pool, &Int8LoopAvx2, 20'000'000); });
  return r;
}

}  // namespace seek

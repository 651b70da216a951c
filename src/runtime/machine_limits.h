// This machine's limits, measured: memory read bandwidth and arithmetic peaks. `seek bench --machine` reports
// a model's decode GB/s as a fraction of the read bandwidth (decode streams every weight once per token) and
// its prefill GFLOP/s as a fraction of the FMA peak (prefill is matmul-bound).
//
//  - Read bandwidth: each thread of the pool streams its own contiguous slice of a buffer much larger than
//  the
//    last-level cache (default 1 GiB, touched once first so every page is resident), XOR-folding 32-byte
//    loads into four accumulators that end in a volatile sink, so no load can be elided. GB/s = 1e9 bytes/s.
//  - FMA peak: every thread runs 12 independent chains of 256-bit fused multiply-adds in registers (enough to
//    cover 2 FMA pipes x 4 cycles of latency on current x86 cores) at once; 16 flops per FMA instruction.
//  - int8 peak: 6 independent chains of vpmaddubsw -> vpmaddwd -> vpaddd, the inner step of a Q8 dot product;
//    counted as 64 ops (32 multiply-adds) per 32 bytes.
// The AVX2/FMA code is compiled for those ISAs per function (target attributes) and used only when the CPU
// reports both (__builtin_cpu_supports); otherwise plain C++ loops are measured and isa says "scalar".
// Each figure is the median of `runs` runs after one warm-up run.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/thread_pool.h"

namespace seek {

// Median, spread and mean of a set of samples.
struct Stats {
  double median = 0, min = 0, max = 0, mean = 0, stdev = 0;  // stdev: sample standard deviation (n - 1)
  std::vector<double> samples;
};
Stats Summarize(std::vector<double> samples);

struct MachineProbeOptions {
  size_t buffer_bytes = size_t(1) << 30;  // read-bandwidth buffer; rounded down to a multiple of 4 KiB
  int runs = 5;
  bool allow_simd = true;  // false: measure the portable loops even on an AVX2 machine (tests)
};

struct MachineLimits {
  int threads = 1;
  std::string isa;  // "avx2+fma" or "scalar"
  size_t buffer_bytes = 0;
  Stats read_gbps;           // memory read bandwidth, all threads, GB/s
  Stats fma_gflops;          // f32 FMA peak, all threads at once, GFLOP/s
  double fma_gflops_1t = 0;  // the same on one thread (median)
  Stats int8_gops;           // int8 multiply-add peak, all threads, GOP/s; empty (median 0) for scalar
};

MachineLimits MeasureMachine(ThreadPool& pool, const MachineProbeOptions& options = {});

// The read-bandwidth probe with its buffer kept, so a pass can be timed at any moment: `seek bench
// --paired-read` reads it just before, during and just after each decode run, because this host's bandwidth
// swings by 1.5x within a second (other tenants) and a limit measured seconds away says little about a run.
// The buffer (2 MiB-aligned, huge pages advised, every page touched by the thread that reads it) and the
// pass are MeasureMachine's.
class ReadProbe {
 public:
  ReadProbe(ThreadPool& pool, size_t buffer_bytes, bool allow_simd = true);
  ~ReadProbe();
  ReadProbe(const ReadProbe&) = delete;
  ReadProbe& operator=(const ReadProbe&) = delete;

  double Pass();  // one pass over the buffer with every thread of the pool; GB/s (1e9 bytes/s)
  size_t bytes() const { return bytes_; }
  int64_t passes() const { return passes_; }  // passes so far
  bool simd() const { return simd_; }

 private:
  ThreadPool& pool_;
  size_t bytes_ = 0;
  bool simd_ = false;
  uint8_t* buf_ = nullptr;
  int64_t passes_ = 0;
};

}  // namespace seek

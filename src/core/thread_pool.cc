#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace seek {

namespace {

// One spin-wait step: tells the core we are spinning (frees pipeline resources for the sibling thread).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#else
  std::this_thread::yield();
#endif
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  wake_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

int ThreadPool::HardwareThreads() { return std::max(1u, std::thread::hardware_concurrency()); }

namespace {

constexpr int kGenShift = 32, kCountShift = 16;
constexpr uint64_t kChunkMask = 0xFFFF;

uint32_t GenOf(uint64_t w) { return uint32_t(w >> kGenShift); }

}  // namespace

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t blocks = (n + grain - 1) / grain;
  const int used = static_cast<int>(std::min<int64_t>(n_threads_, blocks));
  if (used <= 1) {
    fn(0, n, 0);
    return;
  }
  // Contiguous chunks of whole grains, kChunksPerThread per thread (at most 2^16 - 1 chunks).
  const int64_t target = std::min<int64_t>({blocks, int64_t(used) * kChunksPerThread, int64_t(kChunkMask)});
  const int64_t chunk = ((blocks + target - 1) / target) * grain;
  const int64_t n_chunks = (n + chunk - 1) / chunk;
  fn_ = &fn;
  n_ = n;
  chunk_ = chunk;
  done_.store(0, std::memory_order_relaxed);
  ++generation_;
  // seq_cst pairs with the sleeper's seq_cst increment of sleepers_ (see WorkerLoop): either we see the
  // sleeper and notify it under the mutex, or it sees the new generation before it waits.
  work_.store((uint64_t(generation_) << kGenShift) | (uint64_t(n_chunks) << kCountShift),
              std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard<std::mutex> lock(mu_); }
    wake_cv_.notify_all();
  }
  RunChunks(generation_, 0);
  // All chunks are claimed; wait for the ones other threads are still running. Yield when one of them has
  // been descheduled, so it can get a core.
  for (int spins = 0; done_.load(std::memory_order_acquire) != n_chunks; ++spins) {
    if (spins < 2000) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
  fn_ = nullptr;
}

void ThreadPool::RunChunks(uint32_t gen, int index) {
  uint64_t w = work_.load(std::memory_order_acquire);
  for (;;) {
    if (GenOf(w) != gen) return;
    const uint64_t next = w & kChunkMask, count = (w >> kCountShift) & kChunkMask;
    if (next >= count) return;
    if (!work_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    // Chunk `next` of this generation is ours; fn_/n_/chunk_ stay valid until we report it done.
    const int64_t begin = int64_t(next) * chunk_;
    (*fn_)(begin, std::min(n_, begin + chunk_), index);
    done_.fetch_add(1, std::memory_order_acq_rel);
    w = work_.load(std::memory_order_acquire);
  }
}

void ThreadPool::WorkerLoop(int index) {
  uint32_t seen = 0;
  for (;;) {
    // Spin on the work word, checking the clock only every 256 steps.
    uint64_t w = work_.load(std::memory_order_acquire);
    if (GenOf(w) == seen && !stop_.load(std::memory_order_relaxed)) {
      const int64_t start = NowMicros();
      for (int spins = 1;; ++spins) {
        CpuRelax();
        w = work_.load(std::memory_order_acquire);
        if (GenOf(w) != seen || stop_.load(std::memory_order_relaxed)) break;
        if ((spins & 255) == 0 && NowMicros() - start > kSpinMicros) {
          std::unique_lock<std::mutex> lock(mu_);
          sleepers_.fetch_add(1, std::memory_order_seq_cst);
          wake_cv_.wait(lock, [&] {
            return stop_.load() || GenOf(work_.load(std::memory_order_seq_cst)) != seen;
          });
          sleepers_.fetch_sub(1, std::memory_order_relaxed);
          w = work_.load(std::memory_order_acquire);
          break;
        }
      }
    }
    if (stop_.load()) return;
    seen = GenOf(w);
    RunChunks(seen, index);
  }
}

}  // namespace seek

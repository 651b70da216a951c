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

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)), ranges_(new Range[size_t(n_threads_)]) {
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

constexpr int kGenShift = 32;  // in work_
uint32_t GenOf(uint64_t w) { return uint32_t(w >> kGenShift); }

// Range words (ThreadPool::Range).
constexpr int kRangeBits = 20;
constexpr uint64_t kRangeMask = (uint64_t(1) << kRangeBits) - 1;
constexpr uint32_t kRangeGenMask = (uint32_t(1) << (64 - 2 * kRangeBits)) - 1;
uint64_t RangeWord(uint32_t gen, int64_t front, int64_t back) {
  return (uint64_t(gen & kRangeGenMask) << (2 * kRangeBits)) | (uint64_t(front) << kRangeBits) | uint64_t(back);
}
uint32_t RangeGen(uint64_t w) { return uint32_t(w >> (2 * kRangeBits)); }
int64_t RangeFront(uint64_t w) { return int64_t((w >> kRangeBits) & kRangeMask); }
int64_t RangeBack(uint64_t w) { return int64_t(w & kRangeMask); }

}  // namespace

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if ((n + grain - 1) / grain > kMaxGrains) grain = (n + kMaxGrains - 1) / kMaxGrains;
  const int64_t blocks = (n + grain - 1) / grain;
  const int used = static_cast<int>(std::min<int64_t>(n_threads_, blocks));
  if (used <= 1) {
    fn(0, n, 0);
    return;
  }
  fn_ = &fn;
  n_ = n;
  grain_ = grain;
  done_.store(0, std::memory_order_relaxed);
  ++generation_;
  // Thread t starts with grains [t * blocks / T, (t + 1) * blocks / T). A worker still in an older generation
  // fails every compare-exchange on these words (their generation differs), so no seal is needed.
  for (int t = 0; t < n_threads_; ++t) {
    const int64_t b = blocks * t / n_threads_, e = blocks * (t + 1) / n_threads_;
    ranges_[size_t(t)].word.store(RangeWord(generation_, b, e), std::memory_order_release);
  }
  // seq_cst pairs with the sleeper's seq_cst increment of sleepers_ (see WorkerLoop): either we see the
  // sleeper and notify it under the mutex, or it sees the new generation before it waits.
  work_.store(uint64_t(generation_) << kGenShift, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard<std::mutex> lock(mu_); }
    wake_cv_.notify_all();
  }
  RunChunks(generation_, 0);
  // All chunks are claimed; wait for the ones other threads are still running. Yield when one of them has
  // been descheduled, so it can get a core.
  for (int spins = 0; done_.load(std::memory_order_acquire) != blocks; ++spins) {
    if (spins < 2000) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
  fn_ = nullptr;
}

void ThreadPool::RunGrains(int64_t begin, int64_t end, int index) {
  // fn_/n_/grain_ are this generation's: the caller set them before the range words, and waits for every
  // grain to be done before it changes them.
  (*fn_)(begin * grain_, std::min(n_, end * grain_), index);
  done_.fetch_add(end - begin, std::memory_order_acq_rel);
}

void ThreadPool::RunChunks(uint32_t gen, int index) {
  const uint32_t g = gen & kRangeGenMask;
  // Own range, from the front: a quarter of what is left per claim (at least one grain).
  std::atomic<uint64_t>& own = ranges_[size_t(index)].word;
  uint64_t w = own.load(std::memory_order_acquire);
  for (;;) {
    if (RangeGen(w) != g) return;  // a newer generation: ours is done
    const int64_t f = RangeFront(w), b = RangeBack(w);
    if (f >= b) break;
    const int64_t take = std::max<int64_t>(1, (b - f) / 4);
    if (!own.compare_exchange_weak(w, RangeWord(gen, f + take, b), std::memory_order_acq_rel,
                                   std::memory_order_acquire))
      continue;
    RunGrains(f, f + take, index);
    w = own.load(std::memory_order_acquire);
  }
  // Then from the back of the others' ranges, half of what is left at a time, until every range is empty.
  for (bool found = true; found;) {
    found = false;
    for (int k = 1; k < n_threads_; ++k) {
      std::atomic<uint64_t>& other = ranges_[size_t((index + k) % n_threads_)].word;
      uint64_t v = other.load(std::memory_order_acquire);
      for (;;) {
        if (RangeGen(v) != g) return;
        const int64_t f = RangeFront(v), b = RangeBack(v);
        if (f >= b) break;
        const int64_t take = std::max<int64_t>(1, (b - f) / 2);
        if (!other.compare_exchange_weak(v, RangeWord(gen, f, b - take), std::memory_order_acq_rel,
                                         std::memory_order_acquire))
          continue;
        RunGrains(b - take, b, index);
        found = true;
        v = other.load(std::memory_order_acquire);
      }
    }
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

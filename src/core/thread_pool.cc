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

constexpr int kGenShift = 32;
constexpr uint64_t kNextMask = 0xFFFFFFFF;

uint32_t GenOf(uint64_t w) { return uint32_t(w >> kGenShift); }

}  // namespace

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if ((n + grain - 1) / grain > int64_t(kNextMask)) grain = (n + int64_t(kNextMask) - 1) / int64_t(kNextMask);
  const int64_t blocks = (n + grain - 1) / grain;
  const int used = static_cast<int>(std::min<int64_t>(n_threads_, blocks));
  if (used <= 1) {
    fn(0, n, 0);
    return;
  }
  // Seal the previous generation first: a worker still holding its word (all of whose grains are taken) could
  // otherwise read the new n_grains_ below, see grains left, and claim them from the old word before the new
  // one is stored. The seal is a generation with every grain taken, so such a compare-exchange fails; the
  // release store of n_grains_ and the acquire load in RunChunks order the seal before any reader of the new
  // count.
  ++generation_;
  work_.store((uint64_t(generation_) << kGenShift) | kNextMask, std::memory_order_seq_cst);
  fn_ = &fn;
  n_ = n;
  grain_ = grain;
  n_grains_.store(blocks, std::memory_order_release);
  done_.store(0, std::memory_order_relaxed);
  ++generation_;
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

int64_t ThreadPool::ClaimSize(int64_t next) const {
  return std::max<int64_t>(1, (n_grains_.load(std::memory_order_acquire) - next) / (2 * int64_t(n_threads_)));
}

void ThreadPool::RunChunks(uint32_t gen, int index) {
  uint64_t w = work_.load(std::memory_order_acquire);
  for (;;) {
    if (GenOf(w) != gen) return;
    // n_grains_ may already belong to a newer generation when we read it (we may hold a stale w); the word was
    // sealed before it was written (ParallelFor), so the compare-exchange below then fails. When it succeeds,
    // the value was this generation's.
    const int64_t total = n_grains_.load(std::memory_order_acquire);
    const int64_t next = int64_t(w & kNextMask);
    if (next >= total) return;
    const int64_t take = std::min(ClaimSize(next), total - next);
    if (!work_.compare_exchange_weak(w, w + uint64_t(take), std::memory_order_acq_rel, std::memory_order_acquire))
      continue;
    // Grains [next, next + take) of this generation are ours; fn_/n_/grain_ stay valid until we report them done.
    const int64_t begin = next * grain_;
    (*fn_)(begin, std::min(n_, (next + take) * grain_), index);
    done_.fetch_add(take, std::memory_order_acq_rel);
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

// A persistent pool of worker threads. ParallelFor splits [0, n) into one contiguous chunk per thread; the
// calling thread does chunk 0, so a pool of N threads starts N-1 workers. No OpenMP.
//
// Cheap hand-off: decode calls ParallelFor ~150+ times per token, so a mutex + condition variable round trip
// (tens of microseconds) per call would dominate. Instead, workers spin on an atomic generation counter
// (with a pause instruction) and the caller waits on an atomic countdown. A worker that has seen no work for
// kSpinMicros falls back to sleeping on a condition variable, so an idle server does not burn CPU; the
// caller only touches the mutex when some worker is asleep.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace seek {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(begin, end, thread_index) on disjoint chunks covering [0, n); returns when all are done.
  // Chunks are aligned to `grain` (the last one may be shorter). Not re-entrant.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t grain = 1);

  // Number of hardware threads (at least 1).
  static int HardwareThreads();

  // How long an idle worker spins before it sleeps.
  static constexpr int64_t kSpinMicros = 500;

 private:
  void WorkerLoop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  // Bumped (release) after fn_/n_/chunk_ are set; workers acquire it.
  alignas(64) std::atomic<uint64_t> generation_{0};
  alignas(64) std::atomic<int> pending_{0};  // workers still running the current generation
  alignas(64) std::atomic<int> sleepers_{0};  // workers blocked on wake_cv_
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_cv_;
  const std::function<void(int64_t, int64_t, int)>* fn_ = nullptr;
  int64_t n_ = 0, chunk_ = 0;
};

}  // namespace seek

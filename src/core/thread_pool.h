// A persistent pool of worker threads; the calling thread works too, so a pool of N threads starts N-1
// workers. No OpenMP.
//
// ParallelFor splits [0, n) into contiguous, grain-aligned chunks (kChunksPerThread per thread) that the
// threads claim from an atomic counter. Normally each thread takes its share of neighbouring chunks; when a
// thread is late (descheduled on a busy machine), the others take its chunks instead of waiting for it.
//
// Cheap hand-off: decode calls ParallelFor ~150+ times per token, so a mutex + condition variable round trip
// (tens of microseconds) per call would dominate. Instead, workers spin on an atomic word (generation and
// next chunk, with a pause instruction) and the caller waits on an atomic count of finished chunks. A worker
// that has seen no work for kSpinMicros falls back to sleeping on a condition variable, so an idle server does
// not burn CPU; the caller only touches the mutex when some worker is asleep.
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
  // Chunks are aligned to `grain` (the last one may be shorter); a thread may run several chunks, one after
  // another, always with its own thread_index (so per-thread scratch indexed by it is safe). Not re-entrant.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t grain = 1);

  // Number of hardware threads (at least 1).
  static int HardwareThreads();

  // How long an idle worker spins before it sleeps.
  static constexpr int64_t kSpinMicros = 300;
  static constexpr int kChunksPerThread = 2;

 private:
  void WorkerLoop(int index);
  // Claims and runs chunks of generation `gen` until none are left (or a newer generation started).
  void RunChunks(uint32_t gen, int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  // generation (bits 32..63) | chunk count (16..31) | next unclaimed chunk (0..15). Stored (release) after
  // fn_/n_/chunk_ are set; a successful claim (compare-exchange) of a chunk of the current generation makes
  // them visible, and they stay valid until every chunk is done (the caller waits for that).
  alignas(64) std::atomic<uint64_t> work_{0};
  alignas(64) std::atomic<int64_t> done_{0};  // chunks finished in the current generation
  alignas(64) std::atomic<int> sleepers_{0};  // workers blocked on wake_cv_
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_cv_;
  const std::function<void(int64_t, int64_t, int)>* fn_ = nullptr;
  int64_t n_ = 0, chunk_ = 0;
  uint32_t generation_ = 0;  // caller-side copy of the current generation
};

}  // namespace seek

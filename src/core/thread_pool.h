// A persistent pool of worker threads; the calling thread works too, so a pool of N threads starts N-1
// workers. No OpenMP.
//
// ParallelFor hands out [0, n) in contiguous, grain-aligned chunks that the threads claim from one atomic
// counter, largest first ("guided" scheduling): each claim takes 1/(2 * threads) of what is left, at least
// one grain. The first claims are large (few claims, long runs of contiguous memory for the prefetchers) and
// the last ones one grain, so threads that run at different speeds (a descheduled thread on a busy machine,
// or one core getting less of the shared memory bandwidth) still finish within about a grain of each other.
// With fixed chunks (2 per thread), one thread waited for the other ~10% of a decode step.
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
  // Callers that cut their own work into pieces of equal cost (MatMulMany) make this many per thread, so the
  // guided claims can still balance them: the last claim is one piece, and a thread that finishes first
  // waits for at most that (16 per thread left ~45 us slices in V2-Lite's MoE decode; docs/KERNELS.md).
  static constexpr int kChunksPerThread = 128;

 private:
  void WorkerLoop(int index);
  // Claims and runs chunks of generation `gen` until none are left (or a newer generation started).
  void RunChunks(uint32_t gen, int index);
  // Grains of the next claim when `next` of n_grains_ grains are taken.
  int64_t ClaimSize(int64_t next) const;

  int n_threads_;
  std::vector<std::thread> workers_;
  // generation (bits 32..63) | next unclaimed grain (0..31). Stored (release) after fn_/n_/grain_/n_grains_
  // are set; a successful claim (compare-exchange) of grains of the current generation makes them visible, and
  // they stay valid until every grain is done (the caller waits for that).
  alignas(64) std::atomic<uint64_t> work_{0};
  alignas(64) std::atomic<int64_t> done_{0};  // grains finished in the current generation
  alignas(64) std::atomic<int> sleepers_{0};  // workers blocked on wake_cv_
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_cv_;
  const std::function<void(int64_t, int64_t, int)>* fn_ = nullptr;
  int64_t n_ = 0, grain_ = 1;
  std::atomic<int64_t> n_grains_{0};  // atomic: a worker holding a stale generation may read it (RunChunks)
  uint32_t generation_ = 0;  // caller-side copy of the current generation
};

}  // namespace seek

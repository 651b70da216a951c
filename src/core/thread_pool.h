// A persistent pool of worker threads; the calling thread works too, so a pool of N threads starts N-1
// workers. No OpenMP.
//
// ParallelFor splits [0, n) in grain-aligned pieces, and gives each thread one contiguous range of about
// n / threads grains to start with. A thread takes chunks from the front of its own range, a quarter of what
// is left in it at a time, so its chunks follow each other in memory: one long stream for the hardware
// prefetchers and for the kernels' software prefetch, which runs ahead into the next chunk. A thread whose
// range is empty steals half of what is left at the back of another thread's range, so threads that run at
// different speeds (a descheduled thread on a busy machine, or one core getting less of the shared memory
// bandwidth) still finish within about a grain of each other. With fixed chunks (2 per thread), one thread
// waited for the other ~10% of a decode step. With one shared counter and "guided" claims (each 1/(2 x
// threads) of what was left, used until 2026-11-24), each thread's work was ~12 chunks scattered over the
// range, every one a restart of the stream, and every claim a compare-exchange on a line both cores write.
//
// Cheap hand-off: decode calls ParallelFor ~150+ times per token, so a mutex + condition variable round trip
// (tens of microseconds) per call would dominate. Instead, workers spin on an atomic word (the generation,
// with a pause instruction) and the caller waits on an atomic count of finished grains. A worker
// that has seen no work for kSpinMicros falls back to sleeping on a condition variable, so an idle server does
// not burn CPU; the caller only touches the mutex when some worker is asleep.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
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
  // claims and steals can still balance them: the last claim is one piece, and a thread that finishes first
  // waits for at most that (16 per thread left ~45 us slices in V2-Lite's MoE decode; docs/KERNELS.md).
  static constexpr int kChunksPerThread = 128;
  // Most grains one ParallelFor hands out (larger n gets a larger grain).
  static constexpr int64_t kMaxGrains = (int64_t(1) << 20) - 1;

 private:
  void WorkerLoop(int index);
  // Runs chunks of generation `gen`: from the front of range `index`, then stolen from the back of the others,
  // until none are left (or a newer generation started).
  void RunChunks(uint32_t gen, int index);
  // Runs grains [begin, end) and counts them done.
  void RunGrains(int64_t begin, int64_t end, int index);

  // A thread's range of grains: generation (bits 40..63) | front (20..39) | back (0..19). The owner takes
  // [front, front + k), a thief [back - k, back), each by compare-exchange, so every grain is taken once; a
  // word of an older generation fails every compare-exchange of a newer one.
  struct alignas(64) Range {
    std::atomic<uint64_t> word{0};
  };

  int n_threads_;
  std::vector<std::thread> workers_;
  std::unique_ptr<Range[]> ranges_;
  // The generation (bits 32..63), stored after fn_/n_/grain_ and every range word are set; workers spin on
  // it.
  alignas(64) std::atomic<uint64_t> work_{0};
  alignas(64) std::atomic<int64_t> done_{0};  // grains finished in the current generation
  alignas(64) std::atomic<int> sleepers_{0};  // workers blocked on wake_cv_
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_cv_;
  // Valid from a successful claim of a grain of the current generation until every grain is done.
  const std::function<void(int64_t, int64_t, int)>* fn_ = nullptr;
  int64_t n_ = 0, grain_ = 1;
  uint32_t generation_ = 0;  // caller-side copy of the current generation (24 bits used in range words)
};

}  // namespace seek

#include "core/thread_pool.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace seek {
namespace {

TEST(ThreadPool, CoversRangeExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 5, 64, 1001}) {
      std::vector<std::atomic<int>> hits(n);
      pool.ParallelFor(n, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) hits[i]++;
      }, 4);
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << threads << " " << n << " " << i;
    }
  }
}

// Many back-to-back calls (the decode pattern): every element once, thread indices in range, and a thread never
// runs two chunks at the same time under one index.
TEST(ThreadPool, ManySmallCallsAndIndices) {
  for (int threads : {2, 3}) {
    ThreadPool pool(threads);
    std::vector<std::atomic<int>> busy(threads);
    for (int iter = 0; iter < 20000; ++iter) {
      const int64_t n = 1 + iter % 97;
      std::atomic<int64_t> sum{0};
      pool.ParallelFor(n, [&](int64_t b, int64_t e, int idx) {
        ASSERT_GE(idx, 0);
        ASSERT_LT(idx, threads);
        EXPECT_EQ(busy[idx].fetch_add(1), 0);
        for (int64_t i = b; i < e; ++i) sum += i;
        busy[idx].fetch_sub(1);
      }, 1 + iter % 5);
      ASSERT_EQ(sum.load(), n * (n - 1) / 2) << iter;
    }
  }
}

// Calls spaced out beyond the spin time exercise the sleep / wake-up path.
TEST(ThreadPool, WakesSleepingWorkers) {
  ThreadPool pool(3);
  for (int iter = 0; iter < 20; ++iter) {
    std::this_thread::sleep_for(std::chrono::microseconds(ThreadPool::kSpinMicros * 3));
    std::vector<std::atomic<int>> hits(100);
    pool.ParallelFor(100, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) hits[i]++;
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
}

}  // namespace
}  // namespace seek

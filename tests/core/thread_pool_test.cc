#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>
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

// Chunks start on a grain boundary and cover the range once. Each thread first runs chunks from the front of
// its own range (thread t: grains [t * G / T, (t + 1) * G / T)) in order, each starting where the one before
// ended, so its weights stream as one run; only after that does it run chunks stolen from other ranges.
TEST(ThreadPool, EachThreadStreamsItsOwnRangeThenSteals) {
  for (int threads : {2, 3}) {
    ThreadPool pool(threads);
    const int64_t n = 1000, grain = 8, grains = 125;  // the last grain is partial
    for (int iter = 0; iter < 50; ++iter) {
      auto runs = std::vector<std::vector<std::pair<int64_t, int64_t>>>(size_t(threads));
      pool.ParallelFor(n, [&](int64_t b, int64_t e, int idx) {
        runs[size_t(idx)].emplace_back(b, e);  // one thread per index at a time (ManySmallCallsAndIndices)
      }, grain);
      std::vector<int> hits(size_t(n), 0);
      for (int t = 0; t < threads; ++t) {
        const int64_t own_b = grains * t / threads * grain, own_e = std::min(n, grains * (t + 1) / threads * grain);
        int64_t at = own_b;
        bool stealing = false;
        for (const auto& [b, e] : runs[size_t(t)]) {
          ASSERT_EQ(b % grain, 0);
          ASSERT_LT(b, e);
          for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
          const bool own = b >= own_b && b < own_e;
          if (own) {
            EXPECT_FALSE(stealing) << "thread " << t << " ran its own grains after stealing";
            EXPECT_EQ(b, at) << "thread " << t << "'s own chunks are not one run";
            at = e;
          } else {
            stealing = true;
          }
        }
      }
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[size_t(i)], 1) << i;
    }
  }
}

// One thread much slower than the other (a descheduled core): the slow one keeps about the first claim it
// made (a quarter of its half) and the fast one, after its own half, steals the rest of the slow one's. A
// static split would give each half.
TEST(ThreadPool, FastThreadTakesOverFromSlowOne) {
  ThreadPool pool(2);
  const int64_t n = 400;
  std::vector<int64_t> per_thread(2, 0);
  pool.ParallelFor(n, [&](int64_t b, int64_t e, int idx) {
    if (idx == 1) std::this_thread::sleep_for(std::chrono::microseconds(200 * (e - b)));  // 10x slower
    else std::this_thread::sleep_for(std::chrono::microseconds(20 * (e - b)));
    per_thread[size_t(idx)] += e - b;
  }, 1);
  EXPECT_EQ(per_thread[0] + per_thread[1], n);
  EXPECT_GE(per_thread[0], n * 3 / 4) << per_thread[0] << " vs " << per_thread[1];
  EXPECT_LE(per_thread[1], n / 4) << per_thread[0] << " vs " << per_thread[1];
}

}  // namespace
}  // namespace seek

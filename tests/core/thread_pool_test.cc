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

// Chunks start on a grain boundary, the guided claims shrink towards one grain, and the first claim is about
// 1/(2 * threads) of the range.
TEST(ThreadPool, ChunksAreGrainAlignedAndShrink) {
  ThreadPool pool(2);
  const int64_t n = 1000, grain = 8;  // 125 grains
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> chunks;
  pool.ParallelFor(n, [&](int64_t b, int64_t e, int) {
    std::lock_guard<std::mutex> lock(mu);
    chunks.emplace_back(b, e);
  }, grain);
  std::sort(chunks.begin(), chunks.end());
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks.front().first, 0);
  EXPECT_EQ(chunks.back().second, n);
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].first % grain, 0);
    if (i == 0) continue;
    EXPECT_EQ(chunks[i].first, chunks[i - 1].second);
    EXPECT_LE(chunks[i].second - chunks[i].first, chunks[i - 1].second - chunks[i - 1].first);
  }
  EXPECT_EQ(chunks.front().second, 31 * grain);             // 125 / 4 grains
  EXPECT_EQ(chunks.back().second - chunks.back().first, n - 124 * grain);  // the last, partial grain
  EXPECT_GT(chunks.size(), 8u);
}

// One thread much slower than the other (a descheduled core): the slow one keeps at most the first claim it
// made (<= 1/(2 x threads) of the range) and the fast one takes everything else. A static split would give each
// half. (Whichever thread claims first gets the largest piece, so the split is 300/100 or better, not exact.)
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

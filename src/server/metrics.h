// Server metrics, exported at GET /metrics in the Prometheus text format (version 0.0.4).
//
// Reading metrics must never block the engine thread (llama.cpp#27126: a 10-15x drop in CPU generation speed
// while /metrics and /slots were polled during decode). So everything the engine writes is a relaxed atomic:
// counters, gauges, and histograms with atomic buckets. A scrape reads them without a lock; the figures of one
// scrape are not a consistent snapshot across metrics, which Prometheus does not require. Per-endpoint request
// counts are written by HTTP threads only and sit behind their own mutex.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace seek::server {

// A cumulative histogram with fixed upper bounds (seconds); lock-free Observe.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  // Appends the Prometheus lines (_bucket with le, _sum, _count) for metric `name`.
  void Render(const std::string& name, const std::string& help, std::string& out) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // [bounds_.size() + 1], last = +Inf; not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};  // sum in microseconds (integer, so it can be a plain atomic add)
};

struct Metrics {
  Metrics();

  // Written by the engine thread.
  std::atomic<uint64_t> prompt_tokens{0};         // prompt tokens of admitted sequences
  std::atomic<uint64_t> prompt_tokens_cached{0};  // of which reused from a slot's KV cache
  std::atomic<uint64_t> prompt_tokens_evaluated{0};
  std::atomic<uint64_t> generated_tokens{0};
  std::atomic<uint64_t> sequences_finished{0};
  std::atomic<uint64_t> sequences_cancelled{0};
  std::atomic<int64_t> queue_depth{0};    // sequences waiting for a slot
  std::atomic<int64_t> active_slots{0};
  std::atomic<int64_t> n_slots{0};
  std::atomic<int64_t> kv_tokens_used{0};  // tokens held in all slots' KV caches
  std::atomic<int64_t> kv_tokens_capacity{0};
  std::atomic<int64_t> kv_bytes_per_token{0};
  std::atomic<int64_t> engine_steps{0};
  Histogram time_to_first_token;  // seconds from submission to the first generated token
  Histogram request_duration;     // seconds from the HTTP request to its last byte (written by HTTP threads)

  std::atomic<bool> ready{false};  // model loaded

  // Per endpoint and status (HTTP threads).
  void CountRequest(const std::string& endpoint, int status);
  std::vector<std::pair<std::pair<std::string, int>, uint64_t>> RequestCounts() const;

  // The whole exposition, "# HELP" / "# TYPE" lines included.
  std::string RenderPrometheus() const;

 private:
  mutable std::mutex requests_mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
};

}  // namespace seek::server

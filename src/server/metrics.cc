#include "server/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace seek::server {
namespace {

// Latency buckets (seconds): from interactive to long generations on a CPU.
std::vector<double> LatencyBounds() { return {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}; }

std::string FormatDouble(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // The shortest form that reads back as the same double ("0.1", not "0.10000000000000001").
  for (int precision = 6; precision < 17; ++precision) {
    std::string s = StrFormat("%.*g", precision, v);
    if (std::strtod(s.c_str(), nullptr) == v) return s;
  }
  return StrFormat("%.17g", v);
}

void Header(std::string& out, const std::string& name, const char* type, const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

template <typename T>
void Simple(std::string& out, const std::string& name, const char* type, const std::string& help, T value) {
  Header(out, name, type, help);
  out += name + " " + std::to_string(value) + "\n";
}

// Label values escape backslash, double quote and newline (exposition format spec).
std::string EscapeLabel(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '\\' || c == '"') r += '\\', r += c;
    else if (c == '\n') r += "\\n";
    else r += c;
  }
  return r;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  SEEK_CHECK(std::is_sorted(bounds_.begin(), bounds_.end()));
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  const size_t i = size_t(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(std::max(0.0, value) * 1e6 + 0.5), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::Render(const std::string& name, const std::string& help, std::string& out) const {
  Header(out, name, "histogram", help);
  // Read the buckets once; the count line is their sum, so the +Inf bucket always equals _count.
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    const std::string le = i < bounds_.size() ? FormatDouble(bounds_[i]) : "+Inf";
    out += name + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_sum " + FormatDouble(double(sum_us_.load(std::memory_order_relaxed)) * 1e-6) + "\n";
  out += name + "_count " + std::to_string(cumulative) + "\n";
}

Metrics::Metrics() : time_to_first_token(LatencyBounds()), request_duration(LatencyBounds()) {}

void Metrics::CountRequest(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lock(requests_mu_);
  ++requests_[{endpoint, status}];
}

std::vector<std::pair<std::pair<std::string, int>, uint64_t>> Metrics::RequestCounts() const {
  std::lock_guard<std::mutex> lock(requests_mu_);
  return {requests_.begin(), requests_.end()};
}

std::string Metrics::RenderPrometheus() const {
  auto get = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  std::string out;
  Header(out, "seek_requests_total", "counter", "HTTP requests by endpoint and status code.");
  for (const auto& [key, n] : RequestCounts())
    out += "seek_requests_total{endpoint=\"" + EscapeLabel(key.first) + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  Simple(out, "seek_prompt_tokens_total", "counter", "Prompt tokens of admitted sequences.", get(prompt_tokens));
  Simple(out, "seek_prompt_tokens_cached_total", "counter", "Prompt tokens reused from a slot's KV cache.",
         get(prompt_tokens_cached));
  Simple(out, "seek_prompt_tokens_evaluated_total", "counter", "Prompt tokens evaluated (prefill).",
         get(prompt_tokens_evaluated));
  Simple(out, "seek_generated_tokens_total", "counter", "Generated tokens.", get(generated_tokens));
  Simple(out, "seek_sequences_finished_total", "counter", "Sequences that finished (stop or length).",
         get(sequences_finished));
  Simple(out, "seek_sequences_cancelled_total", "counter", "Sequences cancelled (client gone).",
         get(sequences_cancelled));
  Simple(out, "seek_engine_steps_total", "counter", "Engine scheduler steps.", get(engine_steps));
  Simple(out, "seek_queue_depth", "gauge", "Sequences waiting for a free slot.", get(queue_depth));
  Simple(out, "seek_active_slots", "gauge", "Slots running a sequence.", get(active_slots));
  Simple(out, "seek_slots", "gauge", "Slots (--parallel).", get(n_slots));
  Simple(out, "seek_kv_cache_tokens", "gauge", "Tokens held in the KV caches of all slots.", get(kv_tokens_used));
  Simple(out, "seek_kv_cache_capacity_tokens", "gauge", "KV cache capacity of all slots, in tokens.",
         get(kv_tokens_capacity));
  const int64_t cap = get(kv_tokens_capacity);
  Header(out, "seek_kv_cache_usage_ratio", "gauge", "Fraction of the KV cache in use.");
  out += "seek_kv_cache_usage_ratio " + FormatDouble(cap > 0 ? double(get(kv_tokens_used)) / double(cap) : 0.0) + "\n";
  Simple(out, "seek_kv_cache_bytes_per_token", "gauge", "KV cache bytes per token of context.",
         get(kv_bytes_per_token));
  Simple(out, "seek_ready", "gauge", "1 once the model is loaded.", get(ready) ? 1 : 0);
  time_to_first_token.Render("seek_time_to_first_token_seconds",
                             "Seconds from submission to the first generated token.", out);
  request_duration.Render("seek_request_duration_seconds", "Seconds from request to the last byte of the reply.",
                          out);
  return out;
}

}  // namespace seek::server

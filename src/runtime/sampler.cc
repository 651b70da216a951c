// The sampler chain (see sampler.h for the order). Semantics follow llama.cpp's default chain
// (src/llama-sampling.cpp): penalties as llama_sampler_penalties, top-p over the softmax of the current
// logits (before temperature), min-p relative to the most likely candidate, temperature applied last, then
// a draw from the renormalised distribution.
//
// Cost for n_vocab = 150k: bias and penalties touch only the biased / recent tokens. One pass builds the
// candidate list (dropping -inf logits: banned tokens). With top-k set, nth_element + sort of k elements;
// with top-k off and top-p on, the prefix is sorted in doubling chunks (nth_element + sort) until the kept
// mass reaches top_p, which is usually a few hundred tokens; min-p alone needs only the maximum.
//
// Determinism: candidates are ordered by (logit desc, id asc), a total order, so the kept set and the draw do
// not depend on the standard library's sort. The uniform variate is built from the 53 high bits of one
// mt19937_64 output (std::uniform_real_distribution is implementation-defined).
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace seek {
namespace {

constexpr uint64_t kRandomSeed = 0xFFFFFFFFFFFFFFFFull;
// First chunk of the incremental sort used by top-p without top-k (doubles until the mass is reached).
constexpr size_t kTopPFirstChunk = 256;

using Candidate = std::pair<float, int32_t>;  // (logit, token id)

bool Before(const Candidate& a, const Candidate& b) {
  return a.first != b.first ? a.first > b.first : a.second < b.second;
}

double UniformFromBits(uint64_t bits) {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

}  // namespace

Sampler::Sampler(const SamplingParams& params, int32_t n_vocab) : params_(params), n_vocab_(n_vocab) {
  SEEK_CHECK(n_vocab > 0);
  if (params_.seed == kRandomSeed) {
    std::random_device rd;
    seed_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  } else {
    seed_ = params_.seed;
  }
  rng_.seed(seed_);
  candidates_.reserve(static_cast<size_t>(n_vocab));
}

void Sampler::Accept(int32_t token) {
  history_.push_back(token);
}

void Sampler::Reset() {
  history_.clear();
  rng_.seed(seed_);
}

bool Sampler::Prepare(std::span<float> logits, int32_t& single) {
  SEEK_CHECK(static_cast<int64_t>(logits.size()) == n_vocab_);
  const SamplingParams& p = params_;

  // 1. Logit bias (ids outside the vocabulary are ignored).
  for (const auto& [token, bias] : p.logit_bias)
    if (token >= 0 && token < n_vocab_) logits[static_cast<size_t>(token)] += bias;

  // 2. Penalties over the last penalty_last_n accepted tokens, once per distinct token.
  const bool penalize = p.penalty_last_n != 0 && (p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f ||
                                                  p.frequency_penalty != 0.0f);
  if (penalize && !history_.empty()) {
    const size_t window = p.penalty_last_n < 0
                              ? history_.size()
                              : std::min(history_.size(), static_cast<size_t>(p.penalty_last_n));
    std::unordered_map<int32_t, int> counts;
    for (size_t i = history_.size() - window; i < history_.size(); ++i) ++counts[history_[i]];
    for (const auto& [token, count] : counts) {
      if (token < 0 || token >= n_vocab_) continue;
      float& l = logits[static_cast<size_t>(token)];
      if (p.repeat_penalty != 1.0f) l = l > 0.0f ? l / p.repeat_penalty : l * p.repeat_penalty;
      l -= static_cast<float>(count) * p.frequency_penalty + (count > 0 ? p.presence_penalty : 0.0f);
    }
  }

  // 3. Greedy: argmax, ties to the lowest id.
  if (p.temperature <= 0.0f) {
    int32_t best = 0;
    for (int32_t i = 1; i < n_vocab_; ++i)
      if (logits[static_cast<size_t>(i)] > logits[static_cast<size_t>(best)]) best = i;
    single = best;
    return false;
  }

  // Candidates: every token that is not banned (-inf) and not NaN.
  candidates_.clear();
  for (int32_t i = 0; i < n_vocab_; ++i) {
    const float l = logits[static_cast<size_t>(i)];
    if (l > -std::numeric_limits<float>::infinity()) candidates_.emplace_back(l, i);
  }
  if (candidates_.empty()) {  // everything banned: nothing sensible to do; stay deterministic
    single = 0;
    return false;
  }

  // 4. Top-k. `sorted` counts the prefix of candidates_ that is in final order.
  size_t sorted = 0;
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < candidates_.size()) {
    const auto kth = candidates_.begin() + p.top_k;
    std::nth_element(candidates_.begin(), kth - 1, candidates_.end(), Before);
    candidates_.resize(static_cast<size_t>(p.top_k));
  }
  if (p.top_k > 0) {
    std::sort(candidates_.begin(), candidates_.end(), Before);
    sorted = candidates_.size();
  }

  // 5. Softmax at temperature 1 (weights relative to the maximum; the normaliser is the full sum).
  float max_logit = candidates_[0].first;
  for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.first);
  double total = 0.0;
  for (const Candidate& c : candidates_) total += std::exp(static_cast<double>(c.first) - max_logit);

  // 6. Top-p: the smallest prefix (in sorted order) whose probability reaches top_p; at least one token.
  if (p.top_p < 1.0f) {
    const double target = static_cast<double>(p.top_p) * total;
    double cum = 0.0;
    size_t keep = 0;
    size_t chunk = kTopPFirstChunk;
    while (keep < candidates_.size()) {
      if (keep == sorted) {  // extend the sorted prefix
        const size_t end = std::min(candidates_.size(), sorted + chunk);
        const auto first = candidates_.begin() + static_cast<std::ptrdiff_t>(sorted);
        const auto last = candidates_.begin() + static_cast<std::ptrdiff_t>(end);
        if (last != candidates_.end()) std::nth_element(first, last - 1, candidates_.end(), Before);
        std::sort(first, last, Before);
        sorted = end;
        chunk *= 2;
      }
      cum += std::exp(static_cast<double>(candidates_[keep].first) - max_logit);
      ++keep;
      if (cum >= target) break;
    }
    candidates_.resize(std::max<size_t>(keep, 1));
  }

  // 7. Min-p: drop tokens whose probability is below min_p times the largest (a ratio, so no normaliser:
  // p_i / p_max = exp(l_i - l_max)).
  if (p.min_p > 0.0f) {
    const double log_ratio = std::log(static_cast<double>(p.min_p));
    std::erase_if(candidates_,
                  [&](const Candidate& c) { return static_cast<double>(c.first) - max_logit < log_ratio; });
    // The maximum always survives (log ratio 0 >= log(min_p) for min_p <= 1).
    if (candidates_.empty()) {
      single = 0;
      return false;
    }
  }
  max_logit_ = max_logit;
  return true;
}

double Sampler::Weight(const Candidate& c) const {
  const double inv_temp = 1.0 / static_cast<double>(params_.temperature);
  return std::exp((static_cast<double>(c.first) - max_logit_) * inv_temp);
}

int32_t Sampler::Sample(std::span<float> logits) {
  int32_t single = 0;
  if (!Prepare(logits, single)) return single;

  // 8. Temperature, renormalise, draw. Two passes over the kept candidates (the same expression twice, so
  // the sums agree exactly) instead of a weights buffer; walk in candidate order.
  double sum = 0.0;
  for (const Candidate& c : candidates_) sum += Weight(c);
  const double u = UniformFromBits(rng_()) * sum;
  double cum = 0.0;
  for (const Candidate& c : candidates_) {
    cum += Weight(c);
    if (u < cum) return c.second;
  }
  return candidates_.back().second;  // u rounded to the very top
}

void Sampler::Distribution(std::span<float> logits, std::vector<TokenProb>& out) {
  out.clear();
  int32_t single = 0;
  if (!Prepare(logits, single)) {
    out.push_back({single, 1.0});
    return;
  }
  double sum = 0.0;
  for (const Candidate& c : candidates_) sum += Weight(c);
  for (const Candidate& c : candidates_) out.push_back({c.second, Weight(c) / sum});
}

double Sampler::Uniform() { return UniformFromBits(rng_()); }

}  // namespace seek

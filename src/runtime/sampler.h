// The sampler: a chain of small stages applied to one row of logits, then a seeded draw.
// Order (as llama.cpp's default chain): logit bias -> penalties (repetition, presence, frequency over the last
// `penalty_last_n` accepted tokens) -> top-k -> top-p -> min-p -> temperature -> draw. temperature <= 0 means
// greedy (argmax after penalties). The RNG is seeded per sampler, so the same seed gives the same output.
#pragma once
#include <cstdint>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

namespace seek {

// One entry of the distribution a Sampler draws from: a token and its probability.
struct TokenProb {
  int32_t id;
  double p;
};

struct SamplingParams {
  float temperature = 0.8f;
  int32_t top_k = 40;        // <= 0: off
  float top_p = 0.95f;       // >= 1: off
  float min_p = 0.05f;       // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off (CTRL-style: divide positive logits, multiply negative ones)
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int32_t penalty_last_n = 64;  // 0: off, -1: whole history
  uint64_t seed = 0xFFFFFFFFFFFFFFFFull;  // this value: pick a random seed
  std::unordered_map<int32_t, float> logit_bias;
};

class Sampler {
 public:
  Sampler(const SamplingParams& params, int32_t n_vocab);

  // Picks the next token from logits[n_vocab] (the span may be modified).
  int32_t Sample(std::span<float> logits);
  // The distribution Sample() would draw from for these logits (after bias, penalties, top-k/top-p/min-p and
  // temperature): the kept tokens with probabilities summing to 1, in the order Sample() walks them. Greedy:
  // the argmax with probability 1. Uses no randomness (speculative sampling needs p itself, see
  // runtime/speculative.h). The span may be modified.
  void Distribution(std::span<float> logits, std::vector<TokenProb>& out);
  // A uniform variate in [0, 1) from the sampler's seeded stream (the one Sample() draws from).
  double Uniform();
  bool greedy() const { return params_.temperature <= 0.0f; }
  // Records a token (prompt or generated) for the penalties.
  void Accept(int32_t token);
  void Reset();
  uint64_t seed() const { return seed_; }

 private:
  SamplingParams params_;
  int32_t n_vocab_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::vector<int32_t> history_;
  std::vector<std::pair<float, int32_t>> candidates_;
  double max_logit_ = 0.0;

  // Stages 1-7 of the chain. Returns true with the kept candidates in candidates_ (and max_logit_ set), or
  // false when the outcome is a single token (greedy, everything banned), stored in `single`.
  bool Prepare(std::span<float> logits, int32_t& single);
  // Stage 8's unnormalised weight of a kept candidate.
  double Weight(const std::pair<float, int32_t>& c) const;
};

}  // namespace seek

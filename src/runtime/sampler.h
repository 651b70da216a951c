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
};

}  // namespace seek

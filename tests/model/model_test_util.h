// Helpers shared by the model tests (header-only: only model_tests links the model library).
#pragma once
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "model/model.h"

namespace seek::test {

inline int32_t ArgMax(std::span<const float> row) {
  return int32_t(std::max_element(row.begin(), row.end()) - row.begin());
}

// Greedy continuation as a decoder runs it: the prompt in one Eval, then one token per Eval.
inline std::vector<int32_t> GreedyDecode(Context& ctx, std::span<const int32_t> prompt, size_t n_tokens) {
  std::vector<int32_t> out;
  if (n_tokens == 0) return out;
  auto logits = ctx.Eval(prompt);
  for (size_t i = 0; i < n_tokens; ++i) {
    const int32_t next = ArgMax(logits);
    out.push_back(next);
    if (i + 1 < n_tokens) logits = ctx.Eval(std::span<const int32_t>(&next, 1));
  }
  return out;
}

}  // namespace seek::test
